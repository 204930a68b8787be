# frozen_string_literal: true

# The engine's fact log against one written-down contract (doc/contracts.md,
# lib/igniter/store/contracts/fact_log_lint.rb). The suite runs once per
# path, so Igniter::Store::FactLog is the Rust log in the native run and the
# Ruby log in the pure run; the PostgreSQL log is the one a database serves.
RSpec.describe "The fact log contract" do
  describe "Igniter::Store::FactLog (#{Igniter::Store::NATIVE ? "native" : "pure"})" do
    it_behaves_like "an igniter-ledger fact log" do
      let(:log) { Igniter::Store::FactLog.new }
    end
  end

  describe "Igniter::Store::Postgres::FactLog", :postgres do
    it_behaves_like "an igniter-ledger fact log" do
      let(:log) { pg_backend.fact_log }
    end
  end
end
