# Convenience wrapper around CMake.  `make help` lists the targets.
BUILD ?= build
CMAKE_FLAGS ?=
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
DESTDIR ?=

.PHONY: all configure demo test bench bench-plot install clean help deps

all: configure
	cmake --build $(BUILD) -j$(JOBS)

# configured on every run (cheap when nothing changed), so CMAKE_FLAGS and
# PREFIX apply to an existing build directory too
configure:
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) $(CMAKE_FLAGS)

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
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)

clean:
	rm -rf $(BUILD) build-*

help:
	@echo "make          build the library, demo, tools, tests and bench (in $(BUILD)/)"
	@echo "make demo     build and run swiotlb-demo"
	@echo "make test     every test: gcc+clang -Werror, ASan+UBSan, TSan, spin models"
	@echo "make bench    standard benchmark set, JSON in bench/results/"
	@echo "make bench-plot  PNG charts from bench/results/ into docs/img/"
	@echo "make install  install library (.so and .a), header, libswiotlb.pc, CMake package"
	@echo "              and tools into PREFIX (default /usr/local), under DESTDIR if set"
	@echo "variables:    BUILD=dir  CMAKE_FLAGS='-D...'  PREFIX=/opt/x  DESTDIR=/tmp/stage  JOBS=n"
