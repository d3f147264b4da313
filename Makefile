# A thin layer over meson.  On a fresh Debian 12 machine:
#
#   make run     install what is missing, build, serve the hello example
#                on http://127.0.0.1:3000 (Ctrl-C stops it)
#   make test    install what is missing, run every test suite in a release
#                build and a sanitizer build; last line "N passed, N failed"
#   make bench   run the benchmarks in loadtest/ against the release build
#
# Build directories: build/ (release), build-asan/ (ASan + UBSan),
# build-fuzz/ (clang + libFuzzer); see scripts/test.

BUILD := build

RUN = $(BUILD)/quest serve examples/hello/app.q --host 127.0.0.1 --port 3000

.PHONY: run test bench build bootstrap clean

run: build
	$(RUN)

test: bootstrap
	scripts/test

bench: build
	scripts/bootstrap bench
	loadtest/run.sh $(BUILD)/quest

build: bootstrap
	@test -f $(BUILD)/build.ninja || meson setup $(BUILD) -Dbuildtype=release
	ninja -C $(BUILD)

bootstrap:
	@scripts/bootstrap

clean:
	rm -rf build build-asan build-fuzz
