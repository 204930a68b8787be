# frozen_string_literal: true

# Helpers for spec/igniter/store/gem_install_spec.rb: build, install and run
# the gem in child processes with a chosen PATH and GEM_HOME. They use the
# including example's @tmp (scratch directory) and @gem_file (the built gem).
module LedgerSpec
  module GemInstall
    NO_CARGO_WARNING = "WARNING: igniter-ledger native extension not built: cargo not found on PATH."
    FAILED_BUILD_WARNING = "WARNING: igniter-ledger native extension not built: the Rust build failed"

    # Writes a fact to a WAL, reopens it and reads it back through the installed gem.
    ROUND_TRIP = <<~RUBY
      gem "igniter-ledger"
      require "igniter-ledger"
      require "tmpdir"
      Dir.mktmpdir do |dir|
        wal = File.join(dir, "tasks.wal")
        store = Igniter::Ledger.open(wal)
        store.write(store: :tasks, key: "t1", value: { title: "Ship", status: :open })
        store.close
        reopened = Igniter::Ledger.open(wal)
        puts "native=\#{Igniter::Store::NATIVE}"
        puts "value=\#{reopened.read(store: :tasks, key: "t1").inspect}"
        puts "gem=\#{Gem.loaded_specs["igniter-ledger"].full_gem_path}"
        puts "library=\#{$LOADED_FEATURES.grep(/igniter_store_native/).join(",")}"
        reopened.close
      end
    RUBY

    # Runs RubyGems' `gem` command in a child with +env+ (outside Bundler).
    def gem_command(args, env:, chdir: @tmp)
      without_bundler do
        Open3.capture2e(clean_env.merge(env), RbConfig.ruby, "-rrubygems/gem_runner",
                        "-e", "Gem::GemRunner.new.run(ARGV.dup)", "--", *args, chdir: chdir)
      end
    end

    # The parent's variables that would steer the child's build or load path.
    def clean_env
      %w[RUBYOPT RUBYLIB BUNDLE_GEMFILE BUNDLE_BIN_PATH CARGO CARGO_TARGET_DIR
         IGNITER_LEDGER_PURE IGNITER_LEDGER_REQUIRE_NATIVE MAKEFLAGS].to_h { |name| [name, nil] }
    end

    # GEM_HOME is a fresh directory; GEM_PATH adds this Ruby's gems so the
    # dependencies (rack) resolve without a registry.
    def gem_env(gem_home, path:, **extra)
      { "GEM_HOME" => gem_home, "GEM_PATH" => [gem_home, *Gem.path].join(File::PATH_SEPARATOR),
        "PATH" => path }.merge(extra.transform_keys(&:to_s))
    end

    def which(tool)
      ENV.fetch("PATH").split(File::PATH_SEPARATOR).map { |dir| File.join(dir, tool) }
         .find { |file| File.file?(file) && File.executable?(file) }
    end

    # A bin directory holding only what a build needs besides a Rust toolchain
    # (RubyGems runs extconf with its own Ruby's absolute path, the Makefile runs
    # the rest), plus +extra+ tools.
    def bin_dir(name, extra: [])
      dir = File.join(@tmp, name)
      FileUtils.mkdir_p(dir)
      { "ruby" => RbConfig.ruby }.merge(%w[make sh cp mkdir rm].to_h { |tool| [tool, which(tool)] })
                                 .merge(extra.to_h { |tool| [tool, which(tool)] }).each do |tool, target|
        raise "#{tool} not found on PATH" unless target

        FileUtils.ln_sf(target, File.join(dir, tool))
      end
      dir
    end

    def install(gem_home, gem_file: @gem_file, **env)
      gem_command(["install", "--local", "--no-document", gem_file], env: gem_env(gem_home, **env))
    end

    def build_log(gem_home)
      Dir[File.join(gem_home, "extensions", "*", "*", "igniter-ledger-*", "gem_make.out")].first
    end

    def installed_gem_dir(gem_home)
      Dir[File.join(gem_home, "gems", "igniter-ledger-*")].first
    end

    def libraries_in(gem_home)
      Dir[File.join(gem_home, "**", "igniter_store_native.{so,bundle,dll}")]
    end

    # A scratch cargo target directory seeded with the release dependencies that
    # `rake compile` built, so a build of the gem's sources at another path
    # compiles only the gem's two crates. The checkout's own target/ is never
    # written: a cdylib's output carries no hash, so a build from another path
    # would overwrite the library that `rake compile` copies into lib/.
    def seeded_target_dir(name)
      dir = File.join(@tmp, name)
      FileUtils.mkdir_p(dir)
      release = File.join(LedgerSpec::ROOT, "target", "release")
      FileUtils.cp_r(release, dir, preserve: true) if File.directory?(release)
      dir
    end

    def round_trip(gem_home, env = {})
      without_bundler do
        Open3.capture3(clean_env.merge(gem_env(gem_home, path: ENV.fetch("PATH"), **env)),
                       RbConfig.ruby, "-e", LedgerSpec::GemInstall::ROUND_TRIP, chdir: @tmp)
      end
    end
  end
end
