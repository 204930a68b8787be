# frozen_string_literal: true

# `igniter-ledger config`, run as a user would: flags beat IGNITER_LEDGER_*
# variables, variables beat the YAML config file, the file beats the
# defaults; each value is shown with its source, tokens only as "(set)".
RSpec.describe "igniter-ledger config", :servers do
  def config(args, env: {}, dir:)
    process = spawn_ledger(["config", *args], chdir: dir, env: env, name: "igniter-ledger")
    status = await_exit(process)
    [process.lines.join, status.exitstatus]
  end

  def row(output, key)
    output.lines.find { |line| line.start_with?("#{key} ") }.to_s.split(/\s{2,}/).map(&:strip)
  end

  it "shows each setting's value and source: flag > environment > config file > default" do
    with_tmpdir do |dir|
      File.write(File.join(dir, "ledger.yml"), <<~YAML)
        port: 7411
        read_timeout: 3
        log_format: json
        auth_token: file-secret-token
        http_port: off
      YAML
      env = { "IGNITER_LEDGER_CONFIG" => "ledger.yml", "IGNITER_LEDGER_READ_TIMEOUT" => "7",
              "IGNITER_LEDGER_LOG_FORMAT" => "text" }
      output, status = config(%w[--port 7500 --read-token flag-secret-token], env: env, dir: dir)

      expect(status).to eq(0)
      expect(output).to include("config file: #{File.join(File.realpath(dir), "ledger.yml")}")
      expect(row(output, "port")).to eq(["port", "7500", "flag --port"])
      expect(row(output, "read_timeout")).to eq(["read_timeout", "7.0", "env IGNITER_LEDGER_READ_TIMEOUT"])
      expect(row(output, "log_format")).to eq(["log_format", "text", "env IGNITER_LEDGER_LOG_FORMAT"])
      expect(row(output, "http_port")).to eq(["http_port", "off", "file #{File.join(File.realpath(dir), "ledger.yml")}"])
      expect(row(output, "write_token")).to eq(["write_token", "(set)", "file #{File.join(File.realpath(dir), "ledger.yml")}"])
      expect(row(output, "read_token")).to eq(["read_token", "(set)", "flag --read-token"])
      expect(row(output, "idle_timeout")).to eq(["idle_timeout", "300.0", "default"])
      expect(output).not_to include("secret-token")
    end
  end

  it "prints JSON with --json, and reads 0.5.2's IGNITER_LEDGER_TOKEN as the write token" do
    with_tmpdir do |dir|
      output, status = config(%w[--json --auth-token from-flag], dir: dir,
                                                                      env: { "IGNITER_LEDGER_TOKEN" => "legacy" })
      settings = JSON.parse(output)["settings"]

      expect(status).to eq(0)
      expect(settings["write_token"]).to eq("value" => "(set)", "source" => "flag --write-token",
                                            "flag" => "--write-token", "env" => "IGNITER_LEDGER_WRITE_TOKEN")
      output, = config(%w[--json], dir: dir, env: { "IGNITER_LEDGER_TOKEN" => "legacy" })
      expect(JSON.parse(output)["settings"]["write_token"]).to include("source" => "env IGNITER_LEDGER_TOKEN")
      expect(JSON.parse(output)["settings"]["port"]).to include("value" => 7400, "source" => "default")
    end
  end

  it "names the variable, the file and key, or the flag of a bad value, exit 1" do
    with_tmpdir do |dir|
      File.write(File.join(dir, "bad.yml"), "prot: 7400\n")
      File.write(File.join(dir, "broken.yml"), "port: [\n")
      file = File.join(File.realpath(dir), "bad.yml")

      out, status = config([], dir: dir, env: { "IGNITER_LEDGER_PORT" => "seventy" })
      expect([status, out.lines.first]).to eq([1, "Error: IGNITER_LEDGER_PORT: expected an integer, got \"seventy\"\n"])
      out, status = config(%w[--config bad.yml], dir: dir)
      expect([status, out.lines.first])
        .to eq([1, "Error: config file #{file}: unknown key \"prot\" (keys are the flag names with underscores, " \
                   "e.g. read_timeout)\n"])
      out, status = config(%w[--config broken.yml], dir: dir)
      expect([status, out.lines.first]).to match([1, /\AError: config file .*broken\.yml: not valid YAML/])
      out, status = config(%w[--log-level verbose], dir: dir)
      expect([status, out.lines.first])
        .to eq([1, "Error: --log-level: unknown value \"verbose\" (use debug, info, warn, error)\n"])
    end
  end
end
