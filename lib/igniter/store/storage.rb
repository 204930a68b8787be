# frozen_string_literal: true

# Layer 2, storage: where facts persist. WAL frames (wire_protocol), the
# single-file FileBackend and its recovery, the segment codecs, the
# SegmentedFileBackend and (loaded on first use) the PostgresBackend.
require_relative "core"
require_relative "storage/backend"
require_relative "storage/memory_backend"
require_relative "storage/wire_protocol"
require_relative "storage/recovery/scanner"
require_relative "storage/recovery/plan"
require_relative "storage/recovery/ledger_lock"
require_relative "storage/codecs"
require_relative "storage/segmented_file_backend"

module Igniter
  module Store
    # Loaded on first use, so the gem works without the pg gem until then.
    autoload :PostgresBackend, File.expand_path("storage/postgres_backend", __dir__)
  end
end
