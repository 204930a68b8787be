# frozen_string_literal: true

module Igniter
  module Store
    # Loads the Rust extension unless IGNITER_LEDGER_PURE=1 asks for the
    # pure-Ruby classes. IGNITER_LEDGER_REQUIRE_NATIVE=1 turns a missing or
    # broken library into an error, so a broken build can never pass as pure.
    module NativeLoader
      # File name of the Rust extension.
      LIBRARY = "igniter_store_native"

      # @return [Boolean] true when the extension's classes are defined
      def self.load!
        pure = ENV["IGNITER_LEDGER_PURE"] == "1"
        required = ENV["IGNITER_LEDGER_REQUIRE_NATIVE"] == "1"
        if pure && required
          raise ArgumentError, "IGNITER_LEDGER_PURE=1 and IGNITER_LEDGER_REQUIRE_NATIVE=1 contradict each other"
        end
        return false if pure

        local = local_library
        if local
          load_present(local, required)
        else
          load_installed(required)
        end
      end

      # Where the library lives: lib/igniter/store, one folder above this file.
      LIBRARY_DIR = File.expand_path("..", __dir__)
      private_constant :LIBRARY_DIR

      # The library inside lib/igniter/store. A platform gem built for several
      # Rubies keeps one per Ruby minor version in a directory named after it
      # (rake-compiler's layout, doc/releasing.md); `rake compile` and an
      # install from source put it next to this file.
      # @return [String, nil] the first library file present
      def self.local_library
        file = "#{LIBRARY}.#{RbConfig::CONFIG["DLEXT"]}"
        [File.join(RUBY_VERSION[/\A\d+\.\d+/], file), file].map { |name| File.expand_path(name, LIBRARY_DIR) }
                                                           .find { |path| File.exist?(path) }
      end

      # A library file that exists but cannot load is a broken build: say so once.
      def self.load_present(path, required)
        require path
        true
      rescue LoadError => e
        raise if required

        warn "igniter-ledger: native extension #{path} failed to load (#{e.message}); using pure Ruby"
        false
      end

      # `gem install` may leave the library in the gem's extension directory,
      # which RubyGems puts on the load path; absence there is silent (an
      # install without cargo is a pure install, see doc/releasing.md).
      def self.load_installed(required)
        require "igniter/store/#{LIBRARY}"
        true
      rescue LoadError
        raise LoadError, "igniter-ledger: IGNITER_LEDGER_REQUIRE_NATIVE=1 but #{LIBRARY} is not built (#{build_hint})" if required

        false
      end

      # Where to look when the library is absent: an installed gem keeps the
      # output of its extension build (the skip warning, or cargo's errors) in
      # gem_make.out; a checkout builds with rake.
      # @return [String]
      def self.build_hint
        spec = Gem.loaded_specs["igniter-ledger"] if defined?(Gem)
        log = spec && File.join(spec.extension_dir, "gem_make.out")
        return "run `rake compile`" unless log && File.exist?(log)

        "the install's build log is #{log}; with cargo on PATH, `gem pristine igniter-ledger` builds it"
      end
    end

    # true when the Rust extension is loaded and in use (decided once, here).
    NATIVE = NativeLoader.load! unless const_defined?(:NATIVE, false)

    # @return [String] "native" or "pure": the path this process runs on, for
    #   reports (metrics, logs); code never branches on it.
    CORE = NATIVE ? "native" : "pure"
  end
end

# The one seam. The classes whose halves differ (Fact, FactLog, FileBackend,
# TravelCache) and the codecs' accelerator are bound here, once; no other file
# asks which path is active. The native halves only add the Ruby protocol to classes the
# extension defined; the pure halves are whole classes.
if Igniter::Store::NATIVE
  require_relative "native/fact"
  require_relative "native/fact_log"
  require_relative "../storage/native/file_backend"
  require_relative "../storage/codecs/native_accelerator"
  # The codecs' hot loops: the Rust halves on this path.
  Igniter::Store::Codecs::Accelerator = Igniter::Store::Codecs::NativeAccelerator
else
  require_relative "pure/fact"
  require_relative "pure/fact_log"
  require_relative "pure/travel_cache"
  require_relative "../storage/pure/file_backend"
  require_relative "../storage/codecs/ruby_accelerator"
  # The codecs' hot loops: pure Ruby on this path.
  Igniter::Store::Codecs::Accelerator = Igniter::Store::Codecs::RubyAccelerator
end
# What FileBackend declares, added to whichever half was bound.
require_relative "../storage/file_backend_capabilities"
