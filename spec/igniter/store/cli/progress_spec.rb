# frozen_string_literal: true

require_relative "support/ledger_cli"
require "pty"

RSpec.describe "igniter-ledger progress bar", :ledger_cli do
  let!(:wal) { File.join(fixture_copy(@dir, "file_backend"), "ledger.wal") }

  # Runs the command with stderr on a pseudo-terminal and stdout on a pipe;
  # +prelude+ is Ruby run before the executable is loaded.
  # @return [Array(String, String, Integer)] stdout, what the terminal got, exit status
  def on_terminal(*args, prelude: "")
    master, slave = PTY.open
    out_r, out_w = IO.pipe
    script = "#{prelude}\nARGV.replace(#{args.inspect}); load #{LedgerCliSpec::EXE.inspect}"
    pid = without_bundler do
      Process.spawn(path_env.merge("RUBYOPT" => nil, "BUNDLE_GEMFILE" => nil), RbConfig.ruby, "-e", script,
                    out: out_w, err: slave, in: :close, chdir: @dir)
    end
    [slave, out_w].each(&:close)
    terminal = +""
    begin
      loop { terminal << master.readpartial(4096) }
    rescue EOFError, Errno::EIO
      nil # the child closed the terminal
    end
    [out_r.read, terminal, Process.wait2(pid).last.exitstatus]
  ensure
    [master, out_r].each { |io| io&.close }
  end

  def progressbar_available?
    _, _, status = without_bundler { Open3.capture3(RbConfig.ruby, "-e", 'require "ruby-progressbar"') }
    status.success?
  end

  before do
    skip "ruby-progressbar is not installed (Debian: apt-get install ruby-progressbar)" unless progressbar_available?
  end

  it "draws a bar on a terminal's stderr and leaves stdout as it is" do
    out, terminal, status = on_terminal("verify", wal)

    expect(status).to eq(0)
    expect(terminal).to include("verify |").and include("100%")
    expect(out).to eq(ledger_cli("verify", wal, chdir: @dir).out)
  end

  it "draws none with --no-progress, or when stderr is no terminal" do
    _, terminal, status = on_terminal("verify", wal, "--no-progress")

    expect(status).to eq(0)
    expect(terminal).not_to include("|")
    expect(ledger_cli("export", wal, chdir: @dir).err).to be_empty
  end

  it "draws none, and works the same, without the library" do
    hide = 'Kernel.prepend(Module.new { def require(name) = name == "ruby-progressbar" ? raise(LoadError, name) : super })'
    out, terminal, status = on_terminal("verify", wal, prelude: hide)

    expect(status).to eq(0)
    expect(terminal).to be_empty
    expect(out).to end_with("clean\n")
  end
end
