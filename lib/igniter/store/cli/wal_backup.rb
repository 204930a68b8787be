# frozen_string_literal: true

require_relative "backup_copy"
require_relative "durable_copy"
require_relative "wal_at_rest"

module Igniter
  module Store
    module CLI
      # A consistent copy of a WAL ledger: the snapshot, the WAL (while a
      # writer holds it, up to the last complete frame at the moment of
      # copying: the WAL is append-only, so that prefix does not change), the
      # quarantine sidecars and the descriptor journal.
      #
      # Consistent means a state the ledger itself could be found in after a
      # crash at some moment. The snapshot is opened first: a checkpoint or a
      # compaction replaces it (rename) before it empties the WAL, so when
      # the snapshot file is still the one copied once the WAL is copied,
      # and the WAL was neither replaced nor shortened, the pair belongs
      # together. Otherwise the copy is removed and taken again.
      class WalBackup < BackupCopy
        # Copies taken before giving up on a ledger that keeps changing under them.
        ATTEMPTS = 5
        # Quarantine directories of the WAL and of its snapshot.
        SIDECAR_DIRS = [Recovery::Quarantine::SUFFIX,
                        FileBackend::SNAPSHOT_SUFFIX + Recovery::Quarantine::SUFFIX].freeze
        # The descriptor journal beside a WAL.
        DESCRIPTORS = Protocol::DescriptorJournal::FILE_SUFFIX
        # Everything a backup creates beside DEST (removed again when it fails).
        DEST_SIDECARS = ([FileBackend::SNAPSHOT_SUFFIX, DESCRIPTORS] + SIDECAR_DIRS).freeze

        # @return [BackupCopy::Result] (`skipped` is empty: a WAL has no foreign files to leave out)
        # @raise [Error] the ledger changed under every attempt
        def run
          ATTEMPTS.times do |attempt|
            result = copy_once
            if result
              result.attempts = attempt + 1
              result.sidecars = copy_sidecars
              return result
            end
            remove_copy
            sleep(0.05 * (attempt + 1))
          end
          raise Error, "#{@source} was checkpointed or compacted during each of #{ATTEMPTS} copies; try again"
        end

        private

        def snapshot_path
          @source + FileBackend::SNAPSHOT_SUFFIX
        end

        # @return [Result, nil] nil when the ledger changed meanwhile
        def copy_once
          snap = open_if_present(snapshot_path)
          begin
            File.open(@source, "rb") do |wal|
              size = wal.size
              scan = WalAtRest.scan(wal, @source, :wal, size: size)
              length = @live ? scan.sound_end : size
              DurableCopy.file(wal, @dest, length, progress: method(:advance))
              snap_scan = snap && copy_snapshot(snap)
              return nil unless unchanged?(wal, length, snap)

              copied = [[@source, length, size]]
              copied << [snapshot_path, snap.size, snap.size] if snap
              expected = WalAtRest.new(@dest, scan, snap_scan).facts
              Result.new(copied: copied, expected: expected, live: @live, skipped: [])
            end
          ensure
            snap&.close
          end
        rescue EOFError
          nil # shortened (compacted) while copying
        end

        def copy_snapshot(snap)
          scan = WalAtRest.scan(snap, snapshot_path, :snapshot)
          DurableCopy.file(snap, @dest + FileBackend::SNAPSHOT_SUFFIX, snap.size, progress: method(:advance))
          scan
        end

        # The WAL and the snapshot at their paths are still the files copied,
        # and the WAL still holds the copied prefix.
        def unchanged?(wal, length, snap)
          return false unless same_file?(@source, wal) && File.size(@source) >= length

          snap ? same_file?(snapshot_path, snap) : !File.exist?(snapshot_path)
        end

        def same_file?(path, io)
          now = File.stat(path)
          was = io.stat
          now.ino == was.ino && now.dev == was.dev
        rescue Errno::ENOENT
          false
        end

        def open_if_present(path)
          File.open(path, "rb")
        rescue Errno::ENOENT
          nil
        end

        # Quarantine copies and the descriptor journal: written once, never
        # changed, so they need no consistency check.
        # @return [Array<String>] what was copied
        def copy_sidecars
          copied = SIDECAR_DIRS.filter_map do |suffix|
            next unless File.directory?(@source + suffix)

            DurableCopy.tree(@source + suffix, @dest + suffix)
            @source + suffix
          end
          if File.file?(@source + DESCRIPTORS)
            File.open(@source + DESCRIPTORS, "rb") { |io| DurableCopy.file(io, @dest + DESCRIPTORS, io.size) }
            copied << @source + DESCRIPTORS
          end
          DurableCopy.dir(File.dirname(File.absolute_path(@dest)))
          copied
        end

        def remove_copy
          FileUtils.rm_f([@dest, @dest + FileBackend::SNAPSHOT_SUFFIX])
          @done = 0
        end
      end
    end
  end
end
