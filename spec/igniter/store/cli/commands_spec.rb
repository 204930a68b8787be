# frozen_string_literal: true

require_relative "support/ledger_cli"

RSpec.describe "igniter-ledger tools for ledgers at rest", :ledger_cli do
  around { |ex| with_tmpdir { |dir| @dir = dir; ex.run } }

  let(:tools) { %w[verify salvage inspect history export import compact backup] }

  it "lists every tool on --help" do
    ran = ledger_cli("--help", chdir: @dir)

    expect(ran.exit_code).to eq(0)
    tools.each { |tool| expect(ran.out).to match(/^  #{tool}\s+\S/) }
  end

  it "explains each tool on --help with its usage and flags, exit 0" do
    tools.each do |tool|
      ran = ledger_cli(tool, "--help", chdir: @dir)

      expect(ran.exit_code).to eq(0), tool
      expect(ran.out).to start_with("Usage: igniter-ledger #{tool} ").and include("-h, --help")
    end
  end

  it "calls an unknown flag or a missing argument a usage mistake (exit 64, usage on stderr)" do
    tools.each do |tool|
      ran = ledger_cli(tool, "--frobnicate", chdir: @dir)

      expect(ran.exit_code).to eq(64), tool
      expect(ran.err).to include("invalid option: --frobnicate").and include("Usage: igniter-ledger #{tool}")
      expect(ran.out).to be_empty
    end
    expect(ledger_cli("backup", "ledger.wal", chdir: @dir).err).to include("missing DEST")
  end
end
