# frozen_string_literal: true

# Builds the Rust extension. With the rb_sys gem installed we let it write the
# Makefile; without it (no RubyGems registry on our build machines) we write a
# small Makefile ourselves that runs cargo and installs the library where
# rake-compiler and `gem install` expect it.
require "mkmf"
require "rbconfig"

TARGET = "igniter_store_native"
PREFIX = "/igniter/store"

begin
  require "rb_sys/mkmf"
  create_rust_makefile("igniter/store/#{TARGET}")
rescue LoadError
  src_dir = File.expand_path(__dir__)
  dlext = RbConfig::CONFIG["DLEXT"]
  lib_file = RbConfig::CONFIG["host_os"].match?(/darwin/) ? "lib#{TARGET}.dylib" : "lib#{TARGET}.so"
  File.write("Makefile", <<~MAKE)
    # Written by extconf.rb (no rb_sys gem available).
    SHELL = /bin/sh
    RUBY = #{RbConfig.ruby}
    CARGO ?= cargo
    SRC_DIR = #{src_dir}
    CARGO_TARGET_DIR ?= $(CURDIR)/target
    DLLIB = #{TARGET}.#{dlext}
    sitearchdir = #{RbConfig::CONFIG["sitearchdir"]}
    target_prefix = #{PREFIX}
    RUBYARCHDIR = $(sitearchdir)$(target_prefix)
    DESTDIR =

    all: $(DLLIB)

    $(DLLIB): FORCE
    \tRUBY="$(RUBY)" $(CARGO) build --release --lib --manifest-path "$(SRC_DIR)/Cargo.toml" --target-dir "$(CARGO_TARGET_DIR)"
    \tcp "$(CARGO_TARGET_DIR)/release/#{lib_file}" $(DLLIB)

    install: $(DLLIB)
    \tmkdir -p "$(DESTDIR)$(RUBYARCHDIR)"
    \tcp $(DLLIB) "$(DESTDIR)$(RUBYARCHDIR)/$(DLLIB)"
    \tif [ "$(CARGO_TARGET_DIR)" = "$(CURDIR)/target" ]; then rm -rf "$(CURDIR)/target"; fi

    clean:
    \trm -f $(DLLIB)

    distclean: clean
    \trm -f Makefile

    .PHONY: all install clean distclean FORCE
    FORCE:
  MAKE
end
