# frozen_string_literal: true

require "spec_helper"

# examples/store_poc.rb is part of the shipped API surface (spec 06 §4): it
# must run from any working directory and print exactly these seven lines,
# identically on both paths.
RSpec.describe "examples/store_poc.rb" do
  let(:script) { File.join(LedgerSpec::ROOT, "examples", "store_poc.rb") }
  let(:expected_output) do
    <<~OUT
      access_paths=1
      chain_intact=true
      current_status=closed
      status_at_mid=open
      invalidations=[[:reminders, "r1"], [:reminders, "r1"]]
      history_count=2
      wal_replay_done=true
    OUT
  end

  # No -I lib and a foreign cwd: the script must find the library on its own.
  def run_example(env)
    Dir.mktmpdir("poc-cwd") do |cwd|
      without_bundler do
        Open3.capture3({ "BUNDLE_GEMFILE" => nil, "RUBYOPT" => nil }.merge(env), RbConfig.ruby, script, chdir: cwd)
      end
    end
  end

  it "prints the seven pinned lines on the pure-Ruby path" do
    out, err, status = run_example(LedgerSpec::PURE_ENV)
    expect([status.success?, err]).to eq([true, ""])
    expect(out).to eq(expected_output)
  end

  it "prints the same seven lines on the native path" do
    require_native_library!
    out, err, status = run_example(LedgerSpec::NATIVE_ENV)
    expect([status.success?, err]).to eq([true, ""])
    expect(out).to eq(expected_output)
  end

  it "leaves no ledger file behind" do
    Dir.mktmpdir("poc-tmp") do |tmp|
      _out, _err, status = run_example(LedgerSpec::PURE_ENV.merge("TMPDIR" => tmp))
      expect(status.success?).to be(true)
      expect(Dir.children(tmp)).to eq([])
    end
  end
end
