# frozen_string_literal: true

require_relative "support/ledger_cli"

RSpec.describe "igniter-ledger tools for ledgers at rest", :ledger_cli do
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

  it "refuses, in one line naming the writer's pid, a WAL or segmented ledger a writer holds (exit 1)" do
    wal = File.join(@dir, "held.wal")
    File.write(File.join(@dir, "one.ndjson"), "")
    calls = {
      "verify" => [], "salvage" => %w[--out new], "history" => %w[orders o1], "export" => [],
      "import" => %w[one.ndjson], "compact" => %w[--strategy ephemeral]
    }
    [[wal, false], [File.join(@dir, "held"), true]].each do |path, segmented|
      while_writing(path, segmented: segmented) do
        calls.each do |tool, rest|
          ran = ledger_cli(tool, File.basename(path), *rest, chdir: @dir)

          expect(ran.exit_code).to eq(1), "#{tool}: #{ran.err}"
          expect(ran.err.lines.size).to eq(1)
          expect(ran.err).to start_with("igniter-ledger #{tool}: ").and include("writer (pid #{Process.pid})")
        end
      end
    end
    expect(Dir.children(@dir).sort).to eq(%w[held held.wal held.wal.lock one.ndjson])
  end

  it "tells a writing tool that read-only opens hold the ledger, and to try again (exit 1)" do
    path = File.join(@dir, "read.wal")
    Igniter::Store.open(path).close
    reader = Igniter::Store.open(path, read_only: true)
    ran = ledger_cli("compact", "read.wal", "--strategy", "ephemeral", chdir: @dir)

    expect(ran.exit_code).to eq(1)
    expect(ran.err).to eq("igniter-ledger compact: read.wal is locked by a read-only open; try again once they have closed it\n")
  ensure
    reader&.close
  end
end
