# frozen_string_literal: true

require "open3"

# Every library path of 0.5.2 loads on its own, in a process that required
# nothing else, on the path this suite runs on (the suite runs once per path),
# with the gem's own require paths (lib/ and compat/, as the gemspec declares
# them for RubyGems and Bundler). Each path defines the constants its 0.5.2
# file defined. One driver process forks a child per path, so each child
# starts from a bare interpreter without paying for a Ruby start each time.
RSpec.describe "0.5.2 require paths" do
  paths = {
    "igniter-ledger" => %w[Igniter::Store Igniter::Ledger],
    "igniter-store" => %w[Igniter::Store Igniter::Ledger],
    "igniter/ledger" => %w[Igniter::Ledger Igniter::Store::IgniterStore],
    "igniter/store" => %w[Igniter::Store::IgniterStore Igniter::Store::LedgerStore Igniter::Store::NATIVE],
    "igniter/store/access_path" => %w[Igniter::Store::AccessPath],
    "igniter/store/change_event" => %w[Igniter::Store::ChangeEvent],
    "igniter/store/changefeed_buffer" => %w[Igniter::Store::ChangefeedBuffer],
    "igniter/store/codecs" => %w[Igniter::Store::Codecs Igniter::Store::Codecs::JsonCrc32
                                 Igniter::Store::Codecs::CompactDelta],
    "igniter/store/contractable_receipt_sink" => %w[Igniter::Store::ContractableReceiptSink],
    "igniter/store/fact" => %w[Igniter::Store::Fact],
    "igniter/store/fact_log" => %w[Igniter::Store::FactLog],
    "igniter/store/file_backend" => %w[Igniter::Store::FileBackend Igniter::Store::FileBackend::SNAPSHOT_SUFFIX],
    "igniter/store/http_adapter" => %w[Igniter::Store::HTTPAdapter],
    "igniter/store/igniter_store" => %w[Igniter::Store::IgniterStore Igniter::Store::CoercedFact],
    "igniter/store/mcp_adapter" => %w[Igniter::Store::MCPAdapter],
    "igniter/store/native" => %w[Igniter::Store::NATIVE],
    "igniter/store/network_backend" => %w[Igniter::Store::NetworkBackend],
    "igniter/store/protocol" => %w[Igniter::Store::Protocol Igniter::Store::Protocol::Interpreter],
    "igniter/store/protocol/interpreter" => %w[Igniter::Store::Protocol::Interpreter],
    "igniter/store/protocol/receipt" => %w[Igniter::Store::Protocol::Receipt],
    "igniter/store/protocol/sync_profile" => %w[Igniter::Store::Protocol::SyncProfile],
    "igniter/store/protocol/wire_envelope" => %w[Igniter::Store::Protocol::WireEnvelope],
    "igniter/store/read_cache" => %w[Igniter::Store::ReadCache],
    "igniter/store/schema_graph" => %w[Igniter::Store::SchemaGraph],
    "igniter/store/segmented_file_backend" => %w[Igniter::Store::SegmentedFileBackend],
    "igniter/store/server_config" => %w[Igniter::Store::ServerConfig],
    "igniter/store/server_logger" => %w[Igniter::Store::ServerLogger],
    "igniter/store/server_metrics" => %w[Igniter::Store::ServerMetrics],
    "igniter/store/store_server" => %w[Igniter::Store::StoreServer],
    "igniter/store/subscription_registry" => %w[Igniter::Store::SubscriptionRegistry],
    "igniter/store/tbackend_adapter_descriptor" => %w[Igniter::Store::TBackendAdapterDescriptor],
    "igniter/store/tcp_adapter" => %w[Igniter::Store::TCPAdapter],
    "igniter/store/wire_protocol" => %w[Igniter::Store::WireProtocol]
  }.merge(
    %w[access_path command derivation effect history projection relation store subscription].to_h do |name|
      class_name = "#{name.split("_").map(&:capitalize).join}Handler"
      ["igniter/store/protocol/handlers/#{name}_handler", ["Igniter::Store::Protocol::Handlers::#{class_name}"]]
    end
  ).freeze

  # Each argument is "path=Const,Const"; per path one line of output:
  # "path<TAB>ok<TAB>constants left undefined" or "path<TAB>error<TAB>message".
  driver = <<~'RUBY'
    ARGV.each do |arg|
      path, names = arg.split("=", 2)
      reader, writer = IO.pipe
      pid = fork do
        reader.close
        begin
          require path
          missing = names.split(",").reject do |name|
            name.split("::").reduce(Object) { |mod, c| mod.const_get(c, false) }
            true
          rescue NameError
            false
          end
          writer.write("#{path}\tok\t#{missing.join(" ")}\n")
        rescue Exception => e # rubocop:disable Lint/RescueException
          writer.write("#{path}\terror\t#{e.class}: #{e.message.lines.first&.chomp}\n")
        end
        writer.close
        exit!(0)
      end
      writer.close
      print reader.read
      reader.close
      Process.wait(pid)
    end
  RUBY

  spec = Gem::Specification.load(File.join(LedgerSpec::ROOT, "igniter-ledger.gemspec"))
  require_dirs = spec.require_paths.map { |dir| File.join(LedgerSpec::ROOT, dir) }
  results = nil
  outcome_of = lambda do |example|
    results ||= begin
      env = Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV
      args = require_dirs.flat_map { |dir| ["-I", dir] }
      out, err, status = example.without_bundler do
        rubyopt = ENV["RUBYOPT"].to_s.split.reject { |opt| opt.include?("bundler") }.join(" ")
        clean = { "BUNDLE_GEMFILE" => nil, "BUNDLE_BIN_PATH" => nil, "RUBYOPT" => (rubyopt.empty? ? nil : rubyopt) }
        Open3.capture3(clean.merge(env), RbConfig.ruby, *args, "-e", driver, "--",
                       *paths.map { |path, names| "#{path}=#{names.join(",")}" }, chdir: LedgerSpec::ROOT)
      end
      raise "require-path driver failed: #{err}" unless status.success?

      out.lines.to_h { |line| line.chomp.split("\t", 3).then { |path, result, detail| [path, [result, detail.to_s]] } }
    end
  end

  it "are all files in the gem's require paths" do
    missing = paths.keys.reject { |path| require_dirs.any? { |dir| File.file?(File.join(dir, "#{path}.rb")) } }
    expect(missing).to eq([])
  end

  it "keeps every old path in compat/ pointing at a file of lib/" do
    compat = File.join(LedgerSpec::ROOT, "compat")
    targets = Dir[File.join(compat, "**", "*.rb")].to_h do |file|
      [file.delete_prefix("#{compat}/"), File.read(file)[/^require "([^"]+)"$/, 1]]
    end
    expect(targets.size).to be >= paths.size
    dangling = targets.reject { |_old, target| target && File.file?(File.join(LedgerSpec::LIB_DIR, "#{target}.rb")) }
    expect(dangling).to eq({})
  end

  paths.each do |path, names|
    it "#{path} loads alone and defines #{names.join(", ")}" do
      result, detail = outcome_of.call(self).fetch(path)
      expect(result).to eq("ok"), detail
      expect(detail).to eq(""), "#{path} left undefined: #{detail}"
    end
  end
end
