# frozen_string_literal: true

module Igniter
  module Store
    module Server
      # The storage facts of a single-file ledger (a {FileBackend} has no
      # `storage_stats` of its own), in the String-keyed style of
      # {SegmentedFileBackend#storage_stats}, for `observability_snapshot[:storage]`.
      module FileStorage
        module_function

        # @param backend [FileBackend]
        # @return [Hash] `schema_version`, `backend` ("file"), `path`,
        #   `wal_bytes`, `snapshot_path`, `snapshot_bytes` (nil without a
        #   snapshot), `durability` ("flush", "fsync" or `{"group", "interval"}`)
        def facts(backend)
          path = backend.path.to_s
          snapshot = backend.snapshot_path.to_s
          { "schema_version" => 1, "backend" => "file", "path" => File.expand_path(path),
            "wal_bytes" => size_of(path), "snapshot_path" => File.expand_path(snapshot),
            "snapshot_bytes" => size_of(snapshot), "durability" => durability_name(backend.durability) }
        end

        def size_of(file)
          File.size(file)
        rescue SystemCallError
          nil
        end

        def durability_name(policy)
          policy.is_a?(Hash) ? policy.to_h { |key, value| [key.to_s, value] } : policy.to_s
        end

        private_class_method :size_of, :durability_name
      end
    end
  end
end
