# frozen_string_literal: true

module Igniter
  module Store
    module Segmented
      # Startup recovery (spec 03 §4.6): every segment without a manifest was
      # left by a process that did not seal it. Empty ones are deleted; the
      # rest get a manifest with the codec found in the file and the count of
      # facts in its good frames. A torn tail (the crash cut a frame short) is
      # cut off first, so the sealed file holds exactly the counted frames and
      # a later replay does not mistake the crash for corruption.
      module Recovery
        private

        # @return [Array<Hash>] one entry per orphan: path, codec, fact_count, truncated_bytes
        def recover_orphans(glob = File.join(@wal_dir, "store=*", "date=*", Layout::SEGMENT_GLOB))
          Dir.glob(glob).sort.filter_map do |path|
            next if File.exist?(path + ManifestIndex::MANIFEST_SUFFIX)
            next if live_path?(path)

            seal_orphan(path)
          end
        end

        def live_path?(path)
          @segments.each_value.any? { |seg| seg[:path] == path }
        end

        def seal_orphan(path)
          size = File.size(path)
          if size.zero?
            File.delete(path)
            return { "segment_path" => path, "deleted" => true }
          end

          codec = Codecs.detect(path)
          count, valid, = Codecs.open_segment(path) { |io| Codecs.klass(codec).count(io) }
          truncate(path, valid) if valid < size
          store, bucket = Layout.store_and_bucket(path)
          manifest = manifest_doc(store, bucket, Layout.segment_number(path), codec, count,
                                  File.size(path), nil, nil)
          write_manifest(path, manifest)
          { "segment_path" => path, "codec" => codec, "fact_count" => count, "truncated_bytes" => size - valid }
        rescue Errno::ENOENT
          nil # sealed or deleted by someone else meanwhile
        end

        def truncate(path, valid)
          File.open(path, "r+b") do |io|
            io.truncate(valid)
            io.fsync if sync?
          end
        end
      end
    end
  end
end
