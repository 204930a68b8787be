# frozen_string_literal: true

module LedgerSpec
  module Helpers
    # Runs `script` in a child process on the native path, after it required
    # igniter-ledger, json and tmpdir; `hooks: true` loads the extension with
    # its test hooks (IGNITER_LEDGER_NATIVE_TEST_HOOKS=1, see
    # ext/igniter_store_native/src/guard.rs). Fails the example if the child
    # fails; returns the JSON the child printed last.
    def run_native_child(script, hooks: false)
      require_native_library!
      env = LedgerSpec::NATIVE_ENV.merge("IGNITER_LEDGER_NATIVE_TEST_HOOKS" => hooks ? "1" : nil)
      out, err, status = run_ruby(%(require "igniter-ledger"\nrequire "json"\nrequire "tmpdir"\n#{script}), env: env)
      expect(status).to be_success, "child failed: #{err}"
      JSON.parse(out.lines.last)
    end
  end
end
