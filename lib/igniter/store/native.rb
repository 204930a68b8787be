# frozen_string_literal: true

module Igniter
  module Store
    # Loads the Rust extension unless IGNITER_LEDGER_PURE=1 asks for the
    # pure-Ruby classes. IGNITER_LEDGER_REQUIRE_NATIVE=1 turns a missing or
    # broken library into an error, so a broken build can never pass as pure.
    module NativeLoader
      LIBRARY = "igniter_store_native"

      # @return [Boolean] true when the extension's classes are defined
      def self.load!
        pure = ENV["IGNITER_LEDGER_PURE"] == "1"
        required = ENV["IGNITER_LEDGER_REQUIRE_NATIVE"] == "1"
        if pure && required
          raise ArgumentError, "IGNITER_LEDGER_PURE=1 and IGNITER_LEDGER_REQUIRE_NATIVE=1 contradict each other"
        end
        return false if pure

        local = File.expand_path("#{LIBRARY}.#{RbConfig::CONFIG["DLEXT"]}", __dir__)
        if File.exist?(local)
          load_present(local, required)
        else
          load_installed(required)
        end
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
      # which RubyGems puts on the load path; absence there is silent.
      def self.load_installed(required)
        require "igniter/store/#{LIBRARY}"
        true
      rescue LoadError
        raise LoadError, "igniter-ledger: IGNITER_LEDGER_REQUIRE_NATIVE=1 but #{LIBRARY} is not built (run `rake compile`)" if required

        false
      end
    end

    NATIVE = NativeLoader.load! unless const_defined?(:NATIVE, false)
  end
end
