# The two commands of the README, and the scale-out shape on this machine.
.PHONY: demo test scale-demo
demo:
	scripts/demo.sh
test:
	scripts/test.sh
scale-demo:
	scripts/scale-demo.sh
