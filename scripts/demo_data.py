"""Fill a fresh Tipline database with demo data: a company, users for each
role, parties, opportunities, reports in the queue (one case raised by two
reporters, one advert pasted against two records), an answered report, an
anonymous report with a question, its answer and a photo cleaned of its
metadata, an old report deleted under a retention rule, and the review of
the current week."""
import argparse
import datetime as dt
from decimal import Decimal

from proteus import Model, Wizard, config as pconfig

DEMO_USERS = [
    # login, name, password, Tipline groups
    ('reporter', "Rita Reporter", 'report-demo-1', []),
    ('reporter2', "Sam Second", 'report-demo-2', []),
    ('moderator', "Mo Moderator", 'moderate-demo-1', ["Tipline Moderator"]),
    ('tipline-admin', "Ada Admin", 'configure-demo-1',
        ["Tipline Administrator"]),
    ]
PARTIES = [
    "Northwind Traders", "Shady Supplies Ltd", "Acme Office Furniture",
    "Blue River Logistics", "杭州云图科技有限公司", "Contoso Pharmaceuticals",
    ]
OPPORTUNITIES = [
    ("Northwind Traders", "Warehouse shelving for 3 sites", 48000),
    ("Shady Supplies Ltd", "Bulk toner, paid up front", 12500),
    ("Blue River Logistics", "Fleet telematics renewal", 73000),
    ("杭州云图科技有限公司", "云端 CRM 年度订阅", 98000),
    ]


def file_report(party, category, description):
    "File a report on party as the current user; its tracking number"
    Party = Model.get('party.party')
    wizard = Wizard('tipline.report.submit', [Party(party.id)])
    wizard.form.category = str(category.id)
    wizard.form.description = description
    wizard.execute('submit')
    number = wizard.form.tracking_number
    wizard.execute('end')
    return number


def decide(number, severity, truthfulness, outcome, message):
    "Take report number through triage and investigation to resolved"
    Report = Model.get('tipline.report')
    report, = Report.find([('tracking_number', '=', number)])
    report.severity_assessment = severity
    report.click('triage')
    report.click('investigate')
    report.truthfulness = truthfulness
    report.outcome = outcome
    report.reporter_message = message
    report.click('resolve')


def answer_on_status_page(database, number, receipt):
    "The anonymous reporter's answer, through the status page's own route"
    import base64
    from werkzeug.test import Client
    from trytond.wsgi import app
    from trytond.modules.tipline.tests.tools import jpeg_with_metadata
    response = Client(app).post('/%s/tipline/conversation' % database, data={
            'number': number, 'receipt': receipt, 'lang': 'en',
            'action': 'reply',
            'body': "Here it is: the note from the 3rd, signed by the same "
            "driver as the one from the 10th.",
            'carried': base64.b64encode(jpeg_with_metadata()).decode(),
            'carried_name': 'delivery-note.jpg',
            })
    if 'id="sent"' not in response.get_data(as_text=True):
        raise SystemExit("demo: the anonymous answer was refused")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('-c', '--config', required=True)
    parser.add_argument('-d', '--database', required=True)
    args = parser.parse_args()
    config = pconfig.set_trytond(args.database, config_file=args.config)

    from trytond.modules.company.tests.tools import create_company, get_company
    create_company()
    company = get_company()

    Company = Model.get('company.company')
    Group = Model.get('res.group')
    User = Model.get('res.user')
    crm_groups = Group.find([('name', 'in', [
                    "Sales", "Opportunity", "Party Administration"])])
    users = {}
    for login, name, password, groups in DEMO_USERS:
        user = User(name=name, login=login, password=password)
        user.email = f'{login}@example.com'
        for group in crm_groups + Group.find([('name', 'in', groups)]):
            user.groups.append(Group(group.id))
        user.companies.append(Company(company.id))
        user.company = Company(company.id)
        user.save()
        users[login] = user

    Party = Model.get('party.party')
    parties = {}
    for name in PARTIES:
        party = Party(name=name)
        party.save()
        parties[name] = party

    Opportunity = Model.get('sale.opportunity')
    for party_name, description, amount in OPPORTUNITIES:
        opportunity = Opportunity(
            party=parties[party_name], description=description,
            amount=Decimal(amount), company=company)
        opportunity.save()

    # The company reports under the EU whistleblowing profile.
    Configuration = Model.get('tipline.configuration')
    Jurisdiction = Model.get('tipline.jurisdiction')
    tipline_config = Configuration(1)
    tipline_config.default_jurisdiction, = Jurisdiction.find(
        [('code', '=', 'eu_whistleblowing')])
    tipline_config.save()

    # One report already waiting in the moderators' queue.
    from trytond.tests.tools import set_user
    set_user(users['reporter'], config)
    Category = Model.get('tipline.category')
    fraud, = Category.find([('code', '=', 'fraud')])
    file_report(parties["Shady Supplies Ltd"], fraud,
        "The bank account on this supplier was changed last night to an "
        "account abroad, right before a large payment run.")

    # Sam reports the same supplier in other words: one case, two reporters.
    set_user(users['reporter2'], config)
    file_report(parties["Shady Supplies Ltd"], fraud,
        "Somebody switched the supplier's bank details to a foreign "
        "account just before this week's payment run.")
    # And pastes one advert against two records: a campaign.
    set_user(users['reporter'], config)
    spam, = Category.find([('code', '=', 'spam')])
    advert = ("Guaranteed 40% monthly returns with our crypto trading "
        "bot, message Kevin on WhatsApp to join the VIP group today.")
    for name in ("Acme Office Furniture", "Contoso Pharmaceuticals"):
        file_report(parties[name], spam, "Pasted into the notes: " + advert)

    # And one the moderators have answered, which the reporter may appeal.
    number = file_report(parties["Blue River Logistics"], spam,
        "The same discount advert was pasted into the notes of all their "
        "contacts this morning.")
    set_user(users['moderator'], config)
    decide(number, 'low', 'unconfirmed', 'not_upheld',
        "The advert is a price list the customer asked for; it was sent by "
        "their own account manager. Thank you for keeping an eye out.")

    # An anonymous report and its conversation: the moderator asks, the
    # reporter answers on the status page with a photo, and the moderator
    # sees the photo without its GPS position and author.
    set_user(users['reporter2'], config)
    # Filed as "Other": the queue's first row stays a named report.
    other, = Category.find([('code', '=', 'other')])
    wizard = Wizard('tipline.report.submit',
        [Party(parties["Northwind Traders"].id)])
    wizard.form.category = str(other.id)
    wizard.form.description = (
        "Pallets of shelving were signed for at our warehouse but never "
        "unloaded; the same delivery note was invoiced twice.")
    wizard.form.anonymous = True
    wizard.execute('submit')
    anonymous = (wizard.form.tracking_number, wizard.form.receipt)
    wizard.execute('end')
    set_user(users['moderator'], config)
    Report = Model.get('tipline.report')
    asked, = Report.find([('tracking_number', '=', anonymous[0])])
    ask = Wizard('tipline.report.ask', [asked])
    ask.form.body = ("Thank you. Do you have a photo of the delivery note "
        "that was invoiced twice?")
    ask.execute('post')
    set_user(1, config)
    answer_on_status_page(args.database, *anonymous)

    # An old report of Rita's, deleted under the retention policy: filed
    # three years and two months ago, answered, closed, its expiry
    # announced to the administrators, and purged by today's cron run.
    from trytond.modules.tipline import clock
    Cron = Model.get('ir.cron')
    Rule = Model.get('tipline.retention.rule')
    eu = tipline_config.default_jurisdiction
    Rule(jurisdiction=eu, period=3, period_unit='year').save()
    cron = {method: Cron.find([('method', '=', 'tipline.report|' + method)])[0]
        for method in ('close_decided', 'apply_retention')}
    filed_ago = dt.timedelta(days=3 * 365 + 60)
    with clock.travelled(-filed_ago):
        set_user(users['reporter'], config)
        number = file_report(parties["杭州云图科技有限公司"], fraud,
            "Their sales manager offered a kickback if we renewed the CRM "
            "subscription without a tender.")
        set_user(users['moderator'], config)
        decide(number, 'medium', 'confirmed', 'upheld',
            "Thank you: the manager no longer works with us, and the "
            "subscription went to tender.")
    set_user(1, config)
    with clock.travelled(-filed_ago + dt.timedelta(days=20)):
        cron['close_decided'].click('run_once')
    with clock.travelled(days=-45):
        cron['apply_retention'].click('run_once')  # the reminder
    cron['apply_retention'].click('run_once')  # the purge

    # The review of this week, as the cron job will make it next week.
    review_cron, = Cron.find([('method', '=', 'tipline.review|create_due')])
    tipline_config = Configuration(1)
    tipline_config.review_period = 'weekly'
    tipline_config.save()
    with clock.travelled(days=7):
        review_cron.click('run_once')

    print("An anonymous report with a conversation, for the status page:")
    print("  tracking number %s, receipt %s" % anonymous)
    print("Demo users (login / password):")
    print("  admin / %s (everything)" % 'tipline-admin')
    for login, name, password, groups in DEMO_USERS:
        print(f"  {login} / {password}  ({name}"
            + (f"; {', '.join(groups)}" if groups else "; a CRM user") + ")")


if __name__ == '__main__':
    main()
