# frozen_string_literal: true

module LedgerSpec
  PURE_ENV = { "IGNITER_LEDGER_PURE" => "1", "IGNITER_LEDGER_REQUIRE_NATIVE" => nil }.freeze
  NATIVE_ENV = { "IGNITER_LEDGER_REQUIRE_NATIVE" => "1", "IGNITER_LEDGER_PURE" => nil }.freeze

  module Helpers
    # Runs `ruby [ruby_args] -I lib -e script -- args` outside Bundler.
    # Returns [stdout, stderr, status].
    def run_ruby(script, env: {}, args: [], ruby_args: [])
      cmd = [RbConfig.ruby, *ruby_args, "-I", LedgerSpec::LIB_DIR, "-e", script, "--", *args]
      without_bundler do
        rubyopt = ENV["RUBYOPT"].to_s.split.reject { |opt| opt.include?("bundler") }.join(" ")
        clean = { "BUNDLE_GEMFILE" => nil, "BUNDLE_BIN_PATH" => nil, "RUBYOPT" => (rubyopt.empty? ? nil : rubyopt) }
        Open3.capture3(clean.merge(env), *cmd, chdir: LedgerSpec::ROOT)
      end
    end

    # Runs a writer +script+ on +path+ under +env+ (one path's process) and
    # returns its stdout, failing the example if it failed or printed to stderr.
    def run_writer(script, env, path)
      out, err, status = run_ruby(script, env: env, args: [path])
      expect(status).to be_success, "writer failed: #{err}"
      expect(err).to eq("")
      out
    end

    def without_bundler(&block)
      if defined?(Bundler) && Bundler.respond_to?(:with_unbundled_env)
        Bundler.with_unbundled_env(&block)
      else
        block.call
      end
    end

    def native_library_path
      Dir[File.join(LedgerSpec::LIB_DIR, "igniter", "store", "igniter_store_native.{so,bundle}")].first
    end

    # Skips the example when the compiled extension is absent, unless a CI run or a
    # REQUIRE_NATIVE run demands it: then the absence fails the example.
    def require_native_library!
      return native_library_path if native_library_path

      if ENV["CI"] || ENV["IGNITER_LEDGER_REQUIRE_NATIVE"] == "1"
        raise "lib/igniter/store/igniter_store_native.{so,bundle} is missing (run `rake compile`)"
      end

      skip "native extension not compiled (lib/igniter/store/igniter_store_native.so absent)"
    end
  end
end
