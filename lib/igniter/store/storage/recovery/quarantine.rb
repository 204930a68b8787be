# frozen_string_literal: true

require_relative "../quarantine_sidecar"

module Igniter
  module Store
    module Recovery
      # The quarantine sidecar (doc/format.md "Quarantine"): before an open cuts
      # bytes out of a file it copies them to
      # `<file>.quarantine/<offset:020>-<length>.bin` with a JSON receipt, and makes
      # both durable. Nothing is ever overwritten. The Rust twin is
      # `ext/ledger_core/src/quarantine.rs`.
      module Quarantine
        extend QuarantineSidecar

        # Appended to a damaged file's path to name its quarantine directory.
        SUFFIX = QuarantineSidecar::SUFFIX

        module_function

        # Reusing a copy fsyncs the directory only when its receipt was missing
        # (the order of the Rust twin). @return [false]
        def sync_reused?
          false
        end

        # @return [Boolean] true when +dir+ was created, false when it existed
        def make_dir(dir)
          Dir.mkdir(dir)
          true
        rescue Errno::EEXIST
          false
        end

        # Creates +path+ with +bytes+, fsynced; false when it exists already
        # (never overwritten).
        def create_new(path, bytes)
          File.open(path, File::WRONLY | File::CREAT | File::EXCL | File::BINARY) do |io|
            io.write(bytes)
            io.flush
            io.fsync
          end
          true
        rescue Errno::EEXIST
          false
        end
      end
    end
  end
end
