# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # {SegmentedFileBackend#recovery} and the `"recovery"` section of
      # `storage_stats` / `segment_manifest`: what startup recovery and
      # replays found, per segment file, in the shape of FileBackend#recovery.
      module RecoveryReport
        private

        # Caller holds the mutex.
        # @return [Hash] deep-frozen, Symbol keys
        def recovery_report
          files = @recovery_files.sort.to_h
          {
            mode: @recovery_mode, read_only: @read_only, files: files.freeze,
            quarantined: files.values.flat_map { |r| r[:quarantined] }.freeze,
            removed_empty: @removed_empty.sort.freeze, unrecognized: @unrecognized
          }.freeze
        end

        # Caller holds the mutex. The report with String keys and Symbols as
        # Strings (the stats travel as JSON), limited to one store's files
        # when `store` is given.
        # @return [Hash]
        def recovery_section(store)
          prefix = store && File.join(@wal_dir, "store=#{store}") + File::SEPARATOR
          mine = ->(path) { prefix.nil? || path.start_with?(prefix) }
          files = @recovery_files.select { |path, _| mine.call(path) }.sort.to_h
          {
            "mode" => @recovery_mode.to_s, "read_only" => @read_only,
            "files" => files.transform_values { |r| plain(r) },
            "removed_empty" => @removed_empty.select(&mine).sort,
            "unrecognized" => @unrecognized.select(&mine)
          }
        end

        def plain(obj)
          case obj
          when Hash then obj.to_h { |k, v| [k.to_s, plain(v)] }
          when Array then obj.map { |v| plain(v) }
          when Symbol then obj.to_s
          else obj
          end
        end
      end
    end
  end
end
