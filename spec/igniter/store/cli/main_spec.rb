# frozen_string_literal: true

RSpec.describe "igniter-ledger command" do
  let(:exe) { File.join(LedgerSpec::ROOT, "exe", "igniter-ledger") }
  let(:path_env) { Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV }

  def run_exe(*args)
    script = "ARGV.replace(#{args.inspect}); load #{exe.inspect}"
    run_ruby(script, env: path_env)
  end

  it "lists its subcommands on --help and exits 0" do
    out, _err, status = run_exe("--help")
    expect(status.exitstatus).to eq(0)
    expect(out).to include("Usage: igniter-ledger COMMAND")
    expect(out).to match(/^\s+serve\s+run the ledger server/)
  end

  it "prints the usage on stderr and exits 64 without a subcommand" do
    out, err, status = run_exe
    expect(status.exitstatus).to eq(64)
    expect(out).to be_empty
    expect(err).to include("Usage: igniter-ledger COMMAND")
  end

  it "names an unknown subcommand and the known ones, exit 64" do
    _out, err, status = run_exe("frobnicate")
    expect(status.exitstatus).to eq(64)
    expect(err).to include('unknown command "frobnicate"').and include("serve")
  end

  it "prints the gem version on --version" do
    out, _err, status = run_exe("--version")
    expect(status.exitstatus).to eq(0)
    expect(out.strip).to eq("igniter-ledger #{Igniter::Store::VERSION}")
  end

  it "serve --help shows the server's flags under the subcommand's name" do
    out, _err, status = run_exe("serve", "--help")
    expect(status.exitstatus).to eq(0)
    expect(out).to include("Usage: igniter-ledger serve").and include("--http-port")
  end
end
