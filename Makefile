# A thin front for people; CMake does the work. `make` builds, `make test` runs every test through CTest
# (release build, then the unit tests under ASan+UBSan, then the fuzz corpora and short fuzz runs with clang).
BUILD      ?= build
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 20

.PHONY: all test test-release test-asan test-fuzz demo clean

all:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: test-release test-asan test-fuzz

test-release: all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan:
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DVNP_SANITIZE=ON -DVNP_CUDA=OFF >/dev/null
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ctest --output-on-failure -j $(JOBS) -L 'unit|sanitized'

test-fuzz:
	@if [ -n "$$(ls tests/fuzz/fuzz_*.c 2>/dev/null)" ]; then \
	  CC=clang cmake -S . -B $(BUILD)-fuzz -DCMAKE_BUILD_TYPE=Debug -DVNP_FUZZ=ON -DVNP_CUDA=OFF \
	    -DVNP_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null && \
	  cmake --build $(BUILD)-fuzz -j $(JOBS) && \
	  cd $(BUILD)-fuzz && ctest --output-on-failure -L fuzz; \
	else echo "no fuzz targets"; fi

demo: all
	bash scripts/demo.sh $(BUILD)/virnucpro

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz
