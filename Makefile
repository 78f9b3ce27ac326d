# ombud — the two commands that do everything on a fresh Debian 12 machine:
#   make run    install what is missing, build, run the main job
#   make test   install what is missing, build, run every test (unit, end-to-end, fuzz)

BUILD      ?= build
FUZZ_BUILD ?= build-fuzz
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
FUZZ_SECONDS ?= 20
OMBUD       = $(BUILD)/adapters/cli/ombud

.PHONY: all deps configure build test unit fuzz asan run validate graphs format format-check tidy clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DOMBUD_WERROR=ON > /dev/null

build: configure
	cmake --build $(BUILD) -j$(JOBS)

# Every test: the unit and integration suites, then the fuzz targets under ASan+UBSan.
test: unit fuzz

unit: build
	ctest --test-dir $(BUILD) --output-on-failure -j$(JOBS)

fuzz: deps
	@cmake -S . -B $(FUZZ_BUILD) -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DOMBUD_TESTS=OFF -DOMBUD_BENCH=OFF -DOMBUD_FUZZ=ON -DOMBUD_WERROR=ON \
	  -DOMBUD_FUZZ_SECONDS=$(FUZZ_SECONDS) > /dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_targets
	ctest --test-dir $(FUZZ_BUILD) --output-on-failure -L fuzz

# The whole test suite built with AddressSanitizer and UndefinedBehaviorSanitizer.
asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DOMBUD_SANITIZE=ON -DOMBUD_WERROR=ON > /dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	ctest --test-dir $(ASAN_BUILD) --output-on-failure -j$(JOBS)

# The main job: validate the shipped workflows against the shipped config, draw each one, replay
# a week of complaints on a virtual clock, drive the engine on the embedded SQLite store, then
# serve the API on it (config/ombud.yaml: 127.0.0.1:8080) until Ctrl-C. SERVE=0 stops before.
SERVE ?= 1
run: build
	$(OMBUD) validate --strict --config config/ombud.yaml workflows
	@for f in workflows/*.yaml; do \
	  echo; echo "## $$f"; echo; echo '```mermaid'; $(OMBUD) graph --format mermaid "$$f" || exit 1; echo '```'; \
	done
	@echo; echo "## Demo: a week in the complaint department (ombud simulate examples/complaint_demo.yaml)"; echo
	$(OMBUD) simulate examples/complaint_demo.yaml
	@echo; echo "## The engine on the embedded SQLite store (var/ombud.db): a call comes in, is answered, waits on the customer"
	@echo "## (run it again: the same idempotency keys get the answers given the first time)"; echo
	$(OMBUD) pipe --config config/ombud.yaml --store sqlite:var/ombud.db workflows \
	  < examples/complaint_requests.ndjson | /usr/bin/python3 scripts/show_answers.py
	$(OMBUD) verify --config config/ombud.yaml --store sqlite:var/ombud.db
	@if [ "$(SERVE)" = 1 ]; then \
	  echo; echo "## The server (ombud serve): Ctrl-C stops it; docs/webhooks.md connects a phone system"; echo; \
	  $(OMBUD) serve --config config/ombud.yaml; \
	fi

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

format-check:
	clang-format --dry-run -Werror $$(git ls-files '*.cpp' '*.h')

tidy: configure
	clang-tidy -p $(BUILD) --quiet $$(git ls-files 'engine/*.cpp' 'adapters/*.cpp')

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD) $(ASAN_BUILD)
