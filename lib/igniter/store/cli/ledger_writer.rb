# frozen_string_literal: true

module Igniter
  module Store
    module CLI
      # Writes facts as they are (ids, causation, times, value hashes kept)
      # into a new ledger of the same kind as the one they came from: a WAL
      # through FileBackend, a segmented directory through
      # SegmentedFileBackend with each store's codec and the source's time
      # buckets. The library's writers make the bytes, so the result is what
      # the gem itself would have written.
      module LedgerWriter
        module_function

        # @param ledger [WalAtRest, SegmentedAtRest] the source (its kind, codecs and buckets)
        # @param path [String] the new ledger
        # @param facts [Array<Fact>] in the order to write
        # @param progress [#progress=] told the facts written so far
        # @return [Integer] facts written
        def write(ledger, path, facts, progress: Progress::NONE)
          backend = open(ledger, path)
          begin
            facts.each_with_index do |fact, i|
              backend.write_fact(fact)
              progress.progress = i + 1
            end
          ensure
            backend.close
          end
          facts.size
        end

        # @return [FileBackend, SegmentedFileBackend] a writer over +path+
        def open(ledger, path)
          return FileBackend.new(path) if ledger.kind == :wal

          SegmentedFileBackend.new(path, codec: ledger.codecs,
                                         time_bucket: SegmentedAtRest.time_bucket(ledger.segments.last&.bucket))
        end

        # The descriptor journal beside a ledger (Protocol::DescriptorJournal):
        # not facts, but what a reopen re-registers.
        # @return [String]
        def descriptors_path(path, kind)
          if kind == :wal
            path + Protocol::DescriptorJournal::FILE_SUFFIX
          else
            File.join(path, Protocol::DescriptorJournal::SEGMENTED_FILE)
          end
        end

        # Copies the source's descriptor journal when it is a JSON document.
        # @return [Symbol] `:copied`, `:none` or `:unreadable` (left behind)
        def copy_descriptors(source, target, kind)
          from = descriptors_path(source, kind)
          return :none unless File.exist?(from)
          return :unreadable unless Segmented::AtomicFile.read_json(from)

          File.binwrite(descriptors_path(target, kind), File.binread(from))
          :copied
        end
      end
    end
  end
end
