# frozen_string_literal: true

module Igniter
  module Store
    # A store name that cannot be a single directory name under `wal/`.
    class InvalidStoreNameError < ArgumentError; end

    # The parts of {SegmentedFileBackend}: layout, manifests, lock, recovery, reading, appending, retention (doc/format.md "Segmented storage").
    module Segmented
      # Where segments and their sidecars live (doc/format.md "Segments: directory tree"):
      # `<root>/wal/store=<store>/date=<bucket>/segment-NNNNNN.wal[suffix]`.
      # Paths are built with File.join from root_dir exactly as given.
      module Layout
        # Glob of segment files in a bucket directory.
        SEGMENT_GLOB = "segment-*.wal"
        # What SEGMENT_GLOB finds that is really a segment (a number, not
        # `segment-notes.wal`): anything else is not the ledger's to touch.
        SEGMENT_NAME = /\Asegment-\d+\.wal\z/.freeze
        # Directory separators, NUL and glob metacharacters would move a store
        # out of its directory or make its globs match other stores.
        FORBIDDEN = %r{[/\\\0*?\[\]{}]}.freeze

        module_function

        # @param store [#to_s]
        # @return [String] the store name, unchanged for every legal name
        # @raise [InvalidStoreNameError] empty, `.`/`..`, or containing `/`,
        #   `\`, NUL or one of `*?[]{}`
        def store_name!(store)
          name = store.to_s
          problem = if name.empty? then "is empty"
                    elsif %w[. ..].include?(name) then "is a relative directory reference"
                    elsif name.match?(FORBIDDEN) then "contains a path separator, NUL or glob character"
                    elsif !name.valid_encoding? then "is not valid #{name.encoding}"
                    end
          raise InvalidStoreNameError, "invalid store name #{name.inspect}: #{problem}" if problem

          name
        end

        # @return [String] `YYYY-MM-DD`, `YYYY-MM-DDTHH` or `flat` for the UTC now
        def bucket(time_bucket, now = Time.now.utc)
          case time_bucket
          when :hour then now.strftime("%Y-%m-%dT%H")
          when :none then "flat"
          else now.strftime("%Y-%m-%d")
          end
        end

        # @param pattern [String] a glob ending in {SEGMENT_GLOB}
        # @return [Array<String>] the segment files it matches
        def segments(pattern)
          Dir.glob(pattern).select { |path| File.basename(path).match?(SEGMENT_NAME) }
        end

        # @return [String] `segment-` + 6-digit (or longer) number + `.wal`
        def segment_file(number)
          "segment-#{number.to_s.rjust(6, "0")}.wal"
        end

        # @return [Integer] the number in a segment or sidecar file name
        def segment_number(path)
          File.basename(path)[/\Asegment-(\d+)\.wal/, 1].to_i
        end

        # @return [String] `store/bucket/NNNNNN`
        def segment_id(store, bucket, number)
          "#{store}/#{bucket}/#{number.to_s.rjust(6, "0")}"
        end

        # @return [Array(String, String)] store and bucket of a segment path
        def store_and_bucket(path)
          dir = File.dirname(path)
          [File.basename(File.dirname(dir)).delete_prefix("store="), File.basename(dir).delete_prefix("date=")]
        end

        # Sort key of a segment: bucket, then number as an Integer (so that
        # numbers past 999999 sort after 999999).
        def order_key(path)
          _store, bucket = store_and_bucket(path)
          [bucket, segment_number(path), path]
        end
      end
    end
  end
end
