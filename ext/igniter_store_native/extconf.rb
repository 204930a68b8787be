# frozen_string_literal: true

# Configures the build of the Rust extension. The gem works without it (the
# pure-Ruby classes behave the same and write the same bytes), so a machine
# without a Rust toolchain still installs the gem; doc/releasing.md lists the
# outcomes:
#
# * cargo found: Makefile.native builds the library (rb_sys writes it when the
#   rb_sys gem is installed, we write it otherwise). The Makefile around it
#   falls back to pure Ruby, with one warning line, when that build fails.
# * cargo not found: the Makefile builds and installs nothing and prints one
#   warning line.
# * IGNITER_LEDGER_REQUIRE_NATIVE=1 (or `--enable-require-native`, which
#   `rake compile` passes): either case is an error instead, so a release or a
#   CI build can never ship or test pure Ruby by accident.
#
# RubyGems shows a successful build's output only with `gem install --verbose`;
# it always keeps it in the gem's gem_make.out.
require "mkmf"
require "rbconfig"

TARGET = "igniter_store_native"
PREFIX = "/igniter/store"
NATIVE_MAKEFILE = "Makefile.native"
REQUIRE_NATIVE = ENV["IGNITER_LEDGER_REQUIRE_NATIVE"] == "1" || enable_config("require-native", false)
PURE_RUBY = "The gem runs on pure Ruby (same behaviour and files, slower)."
PRISTINE = "run `gem pristine igniter-ledger` (Bundler: `bundle pristine igniter-ledger`)"
NO_CARGO_WARNING = "WARNING: igniter-ledger native extension not built: cargo not found on PATH. #{PURE_RUBY} " \
                   "For the Rust core install Rust (https://rustup.rs), then #{PRISTINE}."
FAILED_BUILD_WARNING = "WARNING: igniter-ledger native extension not built: the Rust build failed (cargo output " \
                       "above). #{PURE_RUBY} For the Rust core fix what cargo reports, then #{PRISTINE}."
FAILED_BUILD_ERROR = "igniter-ledger: the Rust build failed (cargo output above), and IGNITER_LEDGER_REQUIRE_NATIVE=1 " \
                     "(or --enable-require-native) forbids the pure-Ruby fallback."

# Our own Makefile for the native build: runs cargo and installs the library
# where rake-compiler and `gem install` expect it (all, RUBYARCHDIR,
# sitearchdir and DESTDIR as mkmf's Makefiles have them).
def write_cargo_makefile(cargo)
  src_dir = File.expand_path(__dir__)
  host_os = RbConfig::CONFIG["host_os"]
  lib_file = if host_os.match?(/darwin/) then "lib#{TARGET}.dylib"
             elsif host_os.match?(/mingw|mswin/) then "#{TARGET}.dll"
             else "lib#{TARGET}.so"
             end
  File.write(NATIVE_MAKEFILE, <<~MAKE)
    # Written by extconf.rb (no rb_sys gem available): the cargo build.
    SHELL = /bin/sh
    RUBY = #{RbConfig.ruby}
    CARGO ?= #{cargo}
    SRC_DIR = #{src_dir}
    CARGO_TARGET_DIR ?= $(CURDIR)/target
    DLLIB = #{TARGET}.#{RbConfig::CONFIG["DLEXT"]}
    sitearchdir = #{RbConfig::CONFIG["sitearchdir"]}
    target_prefix = #{PREFIX}
    RUBYARCHDIR = $(sitearchdir)$(target_prefix)
    DESTDIR =

    all: $(DLLIB)

    $(DLLIB): FORCE
    \tRUBY="$(RUBY)" "$(CARGO)" build --release --lib --manifest-path "$(SRC_DIR)/Cargo.toml" --target-dir "$(CARGO_TARGET_DIR)"
    \tcp "$(CARGO_TARGET_DIR)/release/#{lib_file}" $(DLLIB)

    install: $(DLLIB)
    \tmkdir -p "$(DESTDIR)$(RUBYARCHDIR)"
    \tcp $(DLLIB) "$(DESTDIR)$(RUBYARCHDIR)/$(DLLIB)"

    clean:
    \trm -f $(DLLIB)

    .PHONY: all install clean FORCE
    FORCE:
  MAKE
end

# The Makefile RubyGems and rake-compiler run. With a Makefile.native it builds
# through it and decides what a failed build means; without one (no cargo) it
# only prints +skip_warning+. Either way `install` installs a library only when
# one was built, then removes the cargo target directory inside the build
# directory (the installed gem's own, ~200 MB) unless CARGO_TARGET_DIR put it
# elsewhere.
def write_outer_makefile(skip_warning)
  dlext = RbConfig::CONFIG["DLEXT"]
  build = if skip_warning
            "\t@echo '#{skip_warning}' >&2"
          else
            <<~RECIPE.chomp
              \t@if $(MAKE) -f #{NATIVE_MAKEFILE} all; then :; \\
              \telif [ "$(REQUIRE_NATIVE)" = 1 ] || [ "$$IGNITER_LEDGER_REQUIRE_NATIVE" = 1 ]; then \\
              \t  echo '#{FAILED_BUILD_ERROR}' >&2; exit 1; \\
              \telse \\
              \t  rm -f $(DLLIB); \\
              \t  echo '#{FAILED_BUILD_WARNING}' >&2; \\
              \tfi
            RECIPE
          end
  File.write("Makefile", <<~MAKE)
    # Written by extconf.rb: the native build with its pure-Ruby fallback.
    SHELL = /bin/sh
    DLLIB = #{TARGET}.#{dlext}
    REQUIRE_NATIVE = #{REQUIRE_NATIVE ? 1 : 0}

    all:
    #{build}

    install:
    \t@if [ -f $(DLLIB) ]; then $(MAKE) -f #{NATIVE_MAKEFILE} install; fi
    \t@if [ -z "$$CARGO_TARGET_DIR" ]; then rm -rf target; fi

    clean:
    \t@if [ -f #{NATIVE_MAKEFILE} ]; then $(MAKE) -f #{NATIVE_MAKEFILE} clean; fi

    distclean: clean
    \trm -f Makefile #{NATIVE_MAKEFILE}

    .PHONY: all install clean distclean
  MAKE
end

cargo = find_executable(ENV.fetch("CARGO", "cargo"))
if cargo.nil?
  if REQUIRE_NATIVE
    abort "igniter-ledger: cargo not found on PATH, and IGNITER_LEDGER_REQUIRE_NATIVE=1 (or " \
          "--enable-require-native) forbids the pure-Ruby fallback. Install Rust (https://rustup.rs) " \
          "or drop that setting to install the gem on pure Ruby."
  end
  File.delete(NATIVE_MAKEFILE) if File.exist?(NATIVE_MAKEFILE)
  write_outer_makefile(NO_CARGO_WARNING)
else
  begin
    require "rb_sys/mkmf"
    create_rust_makefile("igniter/store/#{TARGET}")
    File.rename("Makefile", NATIVE_MAKEFILE)
  rescue LoadError
    write_cargo_makefile(cargo)
  end
  write_outer_makefile(nil)
end
