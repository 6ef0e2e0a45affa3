# Convenience wrapper around CMake.  `make help` lists the targets.
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)

.PHONY: all demo test bench bench-plot install clean help deps

all: $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) $(CMAKE_FLAGS)

deps:
	bash scripts/deps.sh

demo: all
	./$(BUILD)/tests/system/swiotlb-demo

test:
	bash scripts/test.sh

bench: deps all
	bash bench/run.sh $(BUILD)

bench-plot: deps
	bash bench/plot.sh

install: all
	cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-*

help:
	@echo "make          build the library, demo, tools, tests and bench (in $(BUILD)/)"
	@echo "make demo     build and run swiotlb-demo"
	@echo "make test     every test: gcc+clang -Werror, ASan+UBSan, TSan, spin models"
	@echo "make bench    standard benchmark set, JSON in bench/results/"
	@echo "make bench-plot  PNG charts from bench/results/ into docs/img/"
	@echo "make install  install library, header and libswiotlb.pc"
