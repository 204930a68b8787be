# frozen_string_literal: true

require_relative "lib/igniter/ledger/version"

Gem::Specification.new do |spec|
  spec.name = "igniter-ledger"
  spec.version = Igniter::Store::VERSION
  spec.authors = ["igniter-ledger developers"]
  spec.summary = "Append-only bitemporal fact ledger with a Rust core and a pure-Ruby fallback"
  spec.description = "A drop-in replacement for igniter-ledger 0.5.2: immutable facts, " \
                     "time travel, histories, scopes, derivations, compaction, WAL and " \
                     "segmented storage. Fact, FactLog and FileBackend are written in Rust; " \
                     "identical pure-Ruby classes take over when the extension is absent."
  spec.license = "MIT"
  spec.required_ruby_version = ">= 3.1.0"

  # Placeholder project URL until the repository is published.
  spec.homepage = "https://github.com/igniter-rb/igniter-ledger"
  spec.metadata = {
    "homepage_uri" => spec.homepage,
    "source_code_uri" => spec.homepage,
    "changelog_uri" => "#{spec.homepage}/blob/main/CHANGELOG.md",
    "bug_tracker_uri" => "#{spec.homepage}/issues",
    "documentation_uri" => "https://rubydoc.info/gems/igniter-ledger",
    "rubygems_mfa_required" => "true"
  }

  # Sources only: never target/, the fuzz crate and corpus, cargo tests (they
  # read that corpus) or a built library. The extension builds at install time;
  # without cargo the gem installs on pure Ruby (doc/releasing.md).
  spec.files = Dir[
    "lib/**/*.rb", "compat/**/*.rb", "lib/igniter/ledger/console/assets/*.{css,js}", "ext/**/*.{rb,rs,toml}",
    "Cargo.toml", "Cargo.lock", "examples/**/*.rb", "exe/*", "doc/*.md", "README.md", "CHANGELOG.md",
    "LICENSE", ".yardopts"
  ].reject { |f| f.include?("/target/") || f.include?("/tests/") || f.start_with?("ext/fuzz") }
  spec.bindir = "exe"
  spec.executables = Dir["exe/*"].map { |f| File.basename(f) }
  # compat/ holds the 0.5.2 and 0.6 require paths, each a file that requires
  # its new home in lib/ (README "Layout").
  spec.require_paths = ["lib", "compat"]
  spec.extensions = ["ext/igniter_store_native/extconf.rb"]

  # Ranges that Debian's packages satisfy, so `bundle install --local` works offline.
  # rack: the HTTP adapter is a Rack app (0.5.2 declared ~> 3.0 but ran on 2.2).
  spec.add_dependency "rack", ">= 2.2", "< 4"
  spec.add_development_dependency "rake", "~> 13.0"
  spec.add_development_dependency "rake-compiler", "~> 1.1"
  spec.add_development_dependency "rspec", "~> 3.10"
  # puma serves the HTTP adapter (Debian bookworm ships 5.6; 6.x works too).
  spec.add_dependency "puma", ">= 5.6", "< 7"
end
