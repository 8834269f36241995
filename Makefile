# quizapp — two commands: `make demo` (run the demo on SQLite) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SOURCES ?= ../shared/sources
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: demo test lint-banks clean

$(BIN)/quizapp: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

## Run the demo: SQLite in ./instance, 89 units, 356 participants, a finished 初赛 and an open 复赛.
demo: $(BIN)/quizapp
	QUIZAPP_DEMO=1 $(BIN)/quizapp db upgrade
	QUIZAPP_DEMO=1 $(BIN)/quizapp demo --simulate
	@echo "演示地址：http://$(HOST):$(PORT)/"
	QUIZAPP_DEMO=1 $(BIN)/quizapp run --host $(HOST) --port $(PORT)

## Check every shipped bank against the official texts.
lint-banks: $(BIN)/quizapp
	$(BIN)/quizapp bank lint --sources $(SOURCES) question_banks/

## The whole suite (set QUIZAPP_TEST_DATABASE_URL to run it on PostgreSQL).
test: $(BIN)/quizapp lint-banks
	QUIZAPP_SOURCES=$(SOURCES) $(BIN)/python -m pytest

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis
