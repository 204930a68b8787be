# frozen_string_literal: true

RSpec.describe "Igniter::Store native/pure path selection" do
  it "uses the Rust classes when IGNITER_LEDGER_REQUIRE_NATIVE=1" do
    skip "not a REQUIRE_NATIVE run" unless ENV["IGNITER_LEDGER_REQUIRE_NATIVE"] == "1"

    expect(Igniter::Store::NATIVE).to be(true)
    expect(Igniter::Store::Fact.ancestors).not_to include(Struct)
  end

  it "uses the pure-Ruby classes when IGNITER_LEDGER_PURE=1" do
    skip "not a PURE run" unless ENV["IGNITER_LEDGER_PURE"] == "1"

    expect(Igniter::Store::NATIVE).to be(false)
  end

  it "defines NATIVE as a boolean on every path" do
    expect([true, false]).to include(Igniter::Store::NATIVE)
  end

  it "reports NATIVE=false in a subprocess started with IGNITER_LEDGER_PURE=1" do
    out, err, status = run_ruby('require "igniter-ledger"; print Igniter::Store::NATIVE', env: LedgerSpec::PURE_ENV)

    expect(status).to be_success, err
    expect(out).to eq("false")
  end

  it "reports NATIVE=true in a subprocess started with IGNITER_LEDGER_REQUIRE_NATIVE=1" do
    require_native_library!
    out, err, status = run_ruby('require "igniter-ledger"; print Igniter::Store::NATIVE', env: LedgerSpec::NATIVE_ENV)

    expect(status).to be_success, err
    expect(out).to eq("true")
  end
end
