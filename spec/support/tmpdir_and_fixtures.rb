# frozen_string_literal: true

module LedgerSpec
  ROOT = File.expand_path("../..", __dir__)
  LIB_DIR = File.join(ROOT, "lib")
  FIXTURES_DIR = File.join(ROOT, "spec", "fixtures")
  FIXTURE_0_5_2 = File.join(FIXTURES_DIR, "igniter-ledger-0.5.2")

  module Helpers
    # Yields a fresh temporary directory that is removed afterwards.
    def with_tmpdir(&block)
      Dir.mktmpdir("igniter-ledger-spec", &block)
    end

    # Absolute path of a file or directory under spec/fixtures/igniter-ledger-0.5.2.
    def fixture_path(*parts)
      File.join(LedgerSpec::FIXTURE_0_5_2, *parts)
    end

    # Copies a fixture directory into +dir+ and returns the copy's path.
    # Always open the copy: opening a WAL may repair (truncate) it.
    def copy_fixture(name, dir)
      source = fixture_path(name)
      raise ArgumentError, "no fixture #{source}" unless File.exist?(source)

      FileUtils.cp_r(source, dir)
      File.join(dir, File.basename(name))
    end
  end
end
