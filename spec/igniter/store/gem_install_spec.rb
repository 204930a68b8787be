# frozen_string_literal: true

require "rubygems/package"

# `gem build` of this checkout, then `gem install` / `bundle install` of that gem
# into a temporary GEM_HOME, the way a user installs it (doc/releasing.md lists
# the outcomes pinned here).
#
# These examples test the install, not a runtime path: which classes the
# installed gem loads is decided by its own build, not by the suite's
# IGNITER_LEDGER_* switches, so running them on both paths would test the same
# thing twice. Each group runs in one of the two rspec runs of `rake spec`: the
# installs that end on pure Ruby (~8 s together) in the pure run; the native
# install and the platform gem, which need cargo and a compiled checkout, in
# the native run (~15 s each: they reuse the dependencies `rake compile` built
# and compile only the gem's two crates). A plain `rspec` runs both.
RSpec.describe "Installing the gem" do
  include LedgerSpec::GemInstall

  before(:context) do
    @tmp = Dir.mktmpdir("igniter-ledger-gem-install")
    @gem_file = File.join(@tmp, "igniter-ledger.gem")
    out, status = gem_command(["build", File.join(LedgerSpec::ROOT, "igniter-ledger.gemspec"), "-o", @gem_file],
                              env: {}, chdir: LedgerSpec::ROOT)
    raise "gem build failed:\n#{out}" unless status.success?
  end

  after(:context) { FileUtils.rm_rf(@tmp) if @tmp }

  describe "that ends on pure Ruby" do
    before(:context) do
      skip "install specs run once, in the pure rspec run" if ENV["IGNITER_LEDGER_REQUIRE_NATIVE"] == "1"
    end

    it "ships sources only: Rust and Ruby sources, Cargo.lock, no target/, fuzz corpus, tests or built library" do
      files = Gem::Package.new(@gem_file).spec.files

      expect(files).to include("Cargo.toml", "Cargo.lock", "ext/igniter_store_native/extconf.rb",
                               "ext/igniter_store_native/Cargo.toml", "ext/ledger_core/Cargo.toml",
                               "ext/ledger_core/src/lib.rs", "lib/igniter-ledger.rb", "LICENSE", "CHANGELOG.md",
                               "README.md")
      expect(files.grep(%r{(\A|/)target/|\Aext/fuzz|/tests/|\.(so|bundle|dll|o|gem)\z})).to eq([])
      expect(files.grep(%r{\A(spec|bench|tmp|pkg|\.ci|\.git)(/|\z)|\A\.rspec\z})).to eq([])
    end

    it "installs without cargo on PATH, prints one warning line, and the gem writes and reads facts on pure Ruby" do
      gem_home = File.join(@tmp, "no-cargo")
      out, status = install(gem_home, path: bin_dir("bin-no-cargo"))

      expect(status).to be_success, out
      log = File.read(build_log(gem_home))
      warnings = log.lines.grep(/WARNING/)
      expect(warnings.size).to eq(1), log
      expect(warnings.first).to start_with(LedgerSpec::GemInstall::NO_CARGO_WARNING)
      expect(log).to include("The gem runs on pure Ruby (same behaviour and files, slower).",
                             "install Rust (https://rustup.rs), then run `gem pristine igniter-ledger`")
      expect(libraries_in(gem_home)).to eq([])

      stdout, stderr, ran = round_trip(gem_home)
      expect(ran).to be_success, stderr
      expect(stderr).to eq("") # the loader is silent when the library is simply absent
      expect(stdout.lines(chomp: true)).to eq(
        ["native=false", "value=#{{ title: "Ship", status: :open }.inspect}", "gem=#{installed_gem_dir(gem_home)}",
         "library="]
      )
    end

    it "runs the installed gem's example tour on pure Ruby" do
      gem_home = File.join(@tmp, "no-cargo-tour")
      out, status = install(gem_home, path: bin_dir("bin-no-cargo"))
      expect(status).to be_success, out

      stdout, stderr, ran = without_bundler do
        Open3.capture3(clean_env.merge(gem_env(gem_home, path: ENV.fetch("PATH"))), RbConfig.ruby,
                       File.join(installed_gem_dir(gem_home), "examples", "store_poc.rb"), chdir: @tmp)
      end
      expect(ran).to be_success, stderr
      expect(stderr).to eq("")
      expect(stdout).to include("chain_intact=true", "current_status=closed", "status_at_mid=open",
                                "history_count=2", "wal_replay_done=true")
    end

    it "fails the install without cargo when IGNITER_LEDGER_REQUIRE_NATIVE=1, naming cargo and the setting" do
      gem_home = File.join(@tmp, "no-cargo-required")
      out, status = install(gem_home, path: bin_dir("bin-no-cargo"), IGNITER_LEDGER_REQUIRE_NATIVE: "1")

      expect(status).not_to be_success
      expect(out).to include("ERROR:  Error installing",
                             "igniter-ledger: cargo not found on PATH, and IGNITER_LEDGER_REQUIRE_NATIVE=1 " \
                             "(or --enable-require-native) forbids the pure-Ruby fallback.")
      expect(Dir[File.join(gem_home, "specifications", "igniter-ledger-*")]).to eq([])
    end

    it "installs with `bundle install --local` without cargo, and Bundler loads it on pure Ruby" do
      app = File.join(@tmp, "app")
      FileUtils.mkdir_p(File.join(app, "vendor", "cache"))
      FileUtils.cp(@gem_file, File.join(app, "vendor", "cache", "igniter-ledger-#{Igniter::Store::VERSION}.gem"))
      File.write(File.join(app, "Gemfile"), %(source "https://rubygems.org"\ngem "igniter-ledger"\n))
      gem_home = File.join(app, "gems")
      env = clean_env.merge(gem_env(gem_home, path: bin_dir("bin-no-cargo"), BUNDLE_SILENCE_ROOT_WARNING: "1"))
      bundle = [RbConfig.ruby, Gem.bin_path("bundler", "bundle")]

      out, status = without_bundler { Open3.capture2e(env, *bundle, "install", "--local", "--no-cache", chdir: app) }
      expect(status).to be_success, out
      expect(File.read(build_log(gem_home))).to include(LedgerSpec::GemInstall::NO_CARGO_WARNING)

      stdout, stderr, ran = without_bundler do
        Open3.capture3(env, *bundle, "exec", "ruby", "-e", 'require "igniter-ledger"; print Igniter::Store::NATIVE',
                       chdir: app)
      end
      expect(ran).to be_success, stderr
      expect([stdout, stderr]).to eq(["false", ""])
    end

    context "when cargo is on PATH but the Rust build fails (offline, no crates cached)" do
      before do
        skip "cargo not on PATH" unless which("cargo")
        @cargo_home = File.join(@tmp, "empty-cargo-home-#{SecureRandom.hex(4)}")
        FileUtils.mkdir_p(@cargo_home)
      end

      def broken_build_env(**extra)
        { path: bin_dir("bin-cargo", extra: %w[cargo rustc]), CARGO_HOME: @cargo_home, CARGO_NET_OFFLINE: "true",
          RUSTUP_HOME: ENV.fetch("RUSTUP_HOME", File.join(Dir.home, ".rustup")) }.merge(extra)
      end

      it "installs on pure Ruby with the build-failed warning after cargo's errors and leaves no target/ behind" do
        gem_home = File.join(@tmp, "failed-build")
        out, status = install(gem_home, **broken_build_env)

        expect(status).to be_success, out
        log = File.read(build_log(gem_home))
        expect(log).to match(/^error: .*\n(.*\n)*#{Regexp.escape(LedgerSpec::GemInstall::FAILED_BUILD_WARNING)}/)
        expect(log.lines.grep(/WARNING/).size).to eq(1), log
        expect(libraries_in(gem_home)).to eq([])
        expect(File.exist?(File.join(installed_gem_dir(gem_home), "ext", "igniter_store_native", "target"))).to be(false)

        stdout, stderr, ran = round_trip(gem_home)
        expect(ran).to be_success, stderr
        expect([stdout.lines.first, stderr]).to eq(["native=false\n", ""])
      end

      it "makes IGNITER_LEDGER_REQUIRE_NATIVE=1 at run time name the install's build log" do
        gem_home = File.join(@tmp, "failed-build-runtime")
        out, status = install(gem_home, **broken_build_env)
        expect(status).to be_success, out

        _stdout, stderr, ran = round_trip(gem_home, IGNITER_LEDGER_REQUIRE_NATIVE: "1")
        expect(ran).not_to be_success
        expect(stderr).to include("IGNITER_LEDGER_REQUIRE_NATIVE=1 but igniter_store_native is not built " \
                                  "(the install's build log is #{build_log(gem_home)}")
      end

      it "fails the install when IGNITER_LEDGER_REQUIRE_NATIVE=1" do
        gem_home = File.join(@tmp, "failed-build-required")
        out, status = install(gem_home, **broken_build_env(IGNITER_LEDGER_REQUIRE_NATIVE: "1"))

        expect(status).not_to be_success
        expect(out).to include("igniter-ledger: the Rust build failed (cargo output above), and " \
                               "IGNITER_LEDGER_REQUIRE_NATIVE=1 (or --enable-require-native) forbids the pure-Ruby fallback.")
        expect(out).not_to include("WARNING: igniter-ledger")
        expect(Dir[File.join(gem_home, "specifications", "igniter-ledger-*")]).to eq([])
      end
    end
  end

  describe "with cargo" do
    before(:context) do
      skip "native installs run once, in the native rspec run" if ENV["IGNITER_LEDGER_PURE"] == "1"
      skip "cargo not on PATH" unless which("cargo")
    end

    it "builds the Rust core, and the installed gem loads it" do
      gem_home = File.join(@tmp, "native")
      out, status = install(gem_home, path: ENV.fetch("PATH"), CARGO_TARGET_DIR: seeded_target_dir("native-target"),
                                      IGNITER_LEDGER_REQUIRE_NATIVE: "1")

      expect(status).to be_success, out
      log = File.read(build_log(gem_home))
      expect(log).to include("Compiling igniter_store_native v#{Igniter::Store::VERSION} (#{installed_gem_dir(gem_home)}")
      expect(log).not_to include("WARNING")
      expect(libraries_in(gem_home)).not_to be_empty

      stdout, stderr, ran = round_trip(gem_home)
      expect(ran).to be_success, stderr
      expect([stdout.lines.first, stderr]).to eq(["native=true\n", ""])
      expect(stdout.lines.last).to start_with("library=#{gem_home}/")
    end

    it "builds a platform gem with `rake native gem` that installs without cargo and loads the Rust core, " \
       "also from a per-Ruby-version directory" do
      # A copy of the checkout's release inputs: rake writes tmp/, lib/ and pkg/
      # there, never over the library this process has loaded.
      checkout = File.join(@tmp, "checkout")
      (Gem::Specification.load(File.join(LedgerSpec::ROOT, "igniter-ledger.gemspec")).files +
        %w[Rakefile Gemfile igniter-ledger.gemspec]).each do |file|
        FileUtils.mkdir_p(File.join(checkout, File.dirname(file)))
        FileUtils.cp(File.join(LedgerSpec::ROOT, file), File.join(checkout, file))
      end
      env = clean_env.merge("CARGO_TARGET_DIR" => seeded_target_dir("platform-target"))
      out, status = without_bundler do
        Open3.capture2e(env, RbConfig.ruby, "-S", "rake", "native", "gem", chdir: checkout)
      end
      expect(status).to be_success, out
      platform_gem = Dir[File.join(checkout, "pkg", "igniter-ledger-#{Igniter::Store::VERSION}-*.gem")].first
      expect(Gem::Package.new(platform_gem).spec.extensions).to eq([])

      gem_home = File.join(@tmp, "platform")
      out, status = install(gem_home, gem_file: platform_gem, path: bin_dir("bin-no-cargo"))
      expect(status).to be_success, out
      expect(build_log(gem_home)).to be_nil
      store_dir = File.join(installed_gem_dir(gem_home), "lib", "igniter", "store")
      library = Dir[File.join(store_dir, "igniter_store_native.*")].first

      stdout, stderr, ran = round_trip(gem_home, IGNITER_LEDGER_REQUIRE_NATIVE: "1")
      expect(ran).to be_success, stderr
      expect([stdout.lines.first, stdout.lines.last, stderr]).to eq(["native=true\n", "library=#{library}\n", ""])

      # A platform gem cross-built for several Rubies keeps one library per
      # Ruby minor version under lib/igniter/store/<X.Y>/ (doc/releasing.md).
      versioned = File.join(store_dir, RUBY_VERSION[/\A\d+\.\d+/], File.basename(library))
      FileUtils.mkdir_p(File.dirname(versioned))
      FileUtils.mv(library, versioned)
      stdout, stderr, ran = round_trip(gem_home, IGNITER_LEDGER_REQUIRE_NATIVE: "1")
      expect(ran).to be_success, stderr
      expect([stdout.lines.first, stdout.lines.last, stderr]).to eq(["native=true\n", "library=#{versioned}\n", ""])
    end
  end
end
