from trytond.exceptions import UserError
from trytond.model.exceptions import ValidationError


class SubmissionError(UserError):
    "A report could not be filed as entered; the wizard keeps the input."


class CategoryValidationError(ValidationError):
    pass


class ReportableModelError(ValidationError):
    pass


class ReportWorkflowError(UserError):
    pass


class IdentityRevealError(UserError):
    pass


class AuditError(UserError):
    pass


class AppealError(UserError):
    pass


class ReviewError(UserError):
    pass


class FeedbackError(UserError):
    "A survey answer or suggestion could not be taken as given"


class CaseError(UserError):
    pass


class PriorityWeightError(ValidationError):
    pass


class DedupThresholdError(ValidationError):
    pass


class BurstSettingsError(ValidationError):
    pass


class EvidenceError(SubmissionError):
    "A file was refused: its type, size or count, or it could not be cleaned"


class ConversationError(UserError):
    "A message could not be posted as written"


class RetentionError(UserError):
    "A legal hold or a write on a deleted report was refused"
