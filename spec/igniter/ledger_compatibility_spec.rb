# frozen_string_literal: true

RSpec.describe "igniter-ledger loading and compatibility" do
  # The path switch of this run, for subprocesses that should load like this process.
  def this_path_env
    Igniter::Store::NATIVE ? LedgerSpec::NATIVE_ENV : LedgerSpec::PURE_ENV
  end

  describe "in a fresh `ruby -I lib` subprocess without Bundler" do
    it "loads via require \"igniter-ledger\" and serves IgniterStore as Igniter::Ledger::LedgerStore" do
      script = <<~RUBY
        require "igniter-ledger"
        store = Igniter::Ledger::LedgerStore.new
        store.write(store: :things, key: "one", value: { ok: true })
        abort "bad read" unless store.read(store: :things, key: "one") == { ok: true }
        puts Igniter::Ledger::LedgerStore.name
        puts defined?(Bundler).inspect
      RUBY
      out, err, status = run_ruby(script, env: this_path_env)

      expect(status).to be_success, err
      expect(err).to eq("")
      expect(out.lines.map(&:chomp)).to eq(["Igniter::Store::IgniterStore", "nil"])
    end

    it "loads via the deprecated require \"igniter-store\" silently when $VERBOSE is off" do
      script = <<~RUBY
        require "igniter-store"
        store = Igniter::Store::LedgerStore.new
        store.write(store: :things, key: "one", value: { ok: true })
        abort "bad read" unless store.read(store: :things, key: "one") == { ok: true }
        print Igniter::Store::LedgerStore.name
      RUBY
      out, err, status = run_ruby(script, env: this_path_env)

      expect(status).to be_success, err
      expect(err).to eq("")
      expect(out).to eq("Igniter::Store::IgniterStore")
    end

    it "warns about require \"igniter-store\" when $VERBOSE is on" do
      _out, err, status = run_ruby('require "igniter-store"', env: this_path_env, ruby_args: ["-W2"])

      expect(status).to be_success, err
      expect(err).to include("igniter-store is deprecated; require igniter-ledger instead")
    end

    it "loads via require \"igniter/ledger\" with Igniter::Ledger aliasing Igniter::Store" do
      out, err, status = run_ruby('require "igniter/ledger"; print Igniter::Ledger.equal?(Igniter::Store)',
                                  env: this_path_env)

      expect(status).to be_success, err
      expect(err).to eq("")
      expect(out).to eq("true")
    end

    it "prints nothing on stderr with IGNITER_LEDGER_PURE=1" do
      _out, err, status = run_ruby('require "igniter-ledger"', env: LedgerSpec::PURE_ENV)

      expect(status).to be_success
      expect(err).to eq("")
    end

    it "prints nothing on stderr with IGNITER_LEDGER_REQUIRE_NATIVE=1" do
      require_native_library!
      _out, err, status = run_ruby('require "igniter-ledger"', env: LedgerSpec::NATIVE_ENV)

      expect(status).to be_success
      expect(err).to eq("")
    end

    it "prints nothing on stderr without a path switch" do
      _out, err, status = run_ruby('require "igniter-ledger"', env: { "IGNITER_LEDGER_PURE" => nil,
                                                                     "IGNITER_LEDGER_REQUIRE_NATIVE" => nil })

      expect(status).to be_success
      expect(err).to eq("")
    end

    it "loads the stdlib the specs rely on by itself" do
      script = <<~RUBY
        require "igniter-ledger"
        print [defined?(JSON), defined?(Set), defined?(FileUtils), defined?(SecureRandom), defined?(Digest::SHA256),
               defined?(Zlib), Time.now.respond_to?(:iso8601)].map { |x| !!x }.inspect
      RUBY
      out, err, status = run_ruby(script, env: this_path_env)

      expect(status).to be_success, err
      expect(out).to eq("[true, true, true, true, true, true, true]")
    end

    it "does not put lib/igniter/store on the global $LOAD_PATH" do
      script = 'require "igniter-ledger"; print $LOAD_PATH.map { |p| File.expand_path(p) }.include?(ARGV[0])'
      out, err, status = run_ruby(script, env: this_path_env, args: [File.join(LedgerSpec::LIB_DIR, "igniter", "store")])

      expect(status).to be_success, err
      expect(out).to eq("false")
    end
  end

  describe "the server executables" do
    def run_exe(name, *args)
      without_bundler do
        rubyopt = ENV["RUBYOPT"].to_s.split.reject { |opt| opt.include?("bundler") }.join(" ")
        env = this_path_env.merge("BUNDLE_GEMFILE" => nil, "BUNDLE_BIN_PATH" => nil,
                                  "RUBYOPT" => (rubyopt.empty? ? nil : rubyopt))
        Open3.capture3(env, RbConfig.ruby, File.join(LedgerSpec::ROOT, "exe", name), *args, chdir: LedgerSpec::ROOT)
      end
    end

    it "prints `igniter-ledger <version>` for igniter-ledger-server --version with an empty stderr" do
      out, err, status = run_exe("igniter-ledger-server", "--version")

      expect(status.exitstatus).to eq(0)
      expect(out).to eq("igniter-ledger #{Igniter::Ledger::VERSION}\n")
      expect(out).to match(/\Aigniter-ledger \S+/)
      expect(err).to eq("")
    end

    it "runs the deprecated igniter-store-server with the same output and a deprecation line on stderr" do
      out, err, status = run_exe("igniter-store-server", "-v")

      expect(status.exitstatus).to eq(0)
      expect(out).to eq("igniter-ledger #{Igniter::Ledger::VERSION}\n")
      expect(err).to eq("igniter-store-server is deprecated; use igniter-ledger-server instead\n")
    end
  end

  describe "in this process" do
    it "makes Igniter::Ledger the very same module as Igniter::Store" do
      expect(Igniter::Ledger).to equal(Igniter::Store)
      expect(Igniter::Ledger.name).to eq("Igniter::Store")
    end

    it "aliases LedgerStore to IgniterStore in both namespaces" do
      expect(Igniter::Store::LedgerStore).to equal(Igniter::Store::IgniterStore)
      expect(Igniter::Ledger::LedgerStore).to equal(Igniter::Store::IgniterStore)
      expect(Igniter::Ledger::LedgerStore.name).to eq("Igniter::Store::IgniterStore")
    end

    it "writes and reads through Igniter::Ledger::LedgerStore and Igniter::Store::LedgerStore" do
      ledger = Igniter::Ledger::LedgerStore.new
      ledger.write(store: :docs, key: "a", value: { title: "ledger" })
      store = Igniter::Store::LedgerStore.new
      store.write(store: :docs, key: "a", value: { title: "store" })

      expect(ledger.read(store: :docs, key: "a")).to eq(title: "ledger")
      expect(store.read(store: :docs, key: "a")).to eq(title: "store")
    end

    it "builds memory stores through both module names, keeping Symbol values in memory" do
      [Igniter::Store.memory, Igniter::Ledger.memory].each do |memory|
        expect(memory).to be_a(Igniter::Store::IgniterStore)
        memory.write(store: :docs, key: "a", value: { status: :open })
        expect(memory.read(store: :docs, key: "a")).to eq(status: :open)
      end
    end

    it "opens a file-backed store through Igniter::Store.open and Igniter::Ledger.open" do
      with_tmpdir do |dir|
        path = File.join(dir, "ledger.wal")
        first = Igniter::Ledger.open(path)
        expect(first).to be_a(Igniter::Store::IgniterStore)
        first.write(store: :docs, key: "a", value: { v: 1 })
        first.close

        second = Igniter::Store.open(path)
        expect(second.read(store: :docs, key: "a")).to eq(v: 1)
        second.close
      end
    end

    it "aliases LedgerServer to StoreServer and LedgerNetworkBackend to NetworkBackend in both namespaces" do
      expect(Igniter::Store::LedgerServer).to equal(Igniter::Store::StoreServer)
      expect(Igniter::Ledger::LedgerServer).to equal(Igniter::Store::StoreServer)
      expect(Igniter::Store::LedgerNetworkBackend).to equal(Igniter::Store::NetworkBackend)
      expect(Igniter::Ledger::LedgerNetworkBackend).to equal(Igniter::Store::NetworkBackend)
    end

    it "builds access paths through Igniter::Ledger.access_path" do
      expect(Igniter::Ledger.access_path(store: :docs, lookup: :primary_key)).to be_a(Igniter::Store::AccessPath)
    end

    it "exposes the gem's own version String from lib/igniter/ledger/version.rb" do
      expect(File.exist?(File.join(LedgerSpec::LIB_DIR, "igniter", "ledger", "version.rb"))).to be(true)
      expect(Igniter::Ledger::VERSION).to be_a(String)
      expect(Gem::Version.correct?(Igniter::Ledger::VERSION)).to be(true)
      expect($LOADED_FEATURES).to include(a_string_ending_with("/igniter/ledger/version.rb"))
    end
  end
end
