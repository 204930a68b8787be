# frozen_string_literal: true

require "json"
require "monitor"

module Igniter
  module Store
    module Protocol
      # The descriptors in force on a persistent store, kept in a sidecar
      # file and re-applied when the store is opened again, so relations keep
      # resolving and projections, commands, … survive a reopen (0.5.2 forgot
      # them, doc/protocol.md "Descriptor journal").
      #
      # Not in the fact log on purpose: fact counts, replay sizes and sync
      # profiles must not change when descriptors are registered.
      # Sidecar: `<wal path>.descriptors.json` for a {FileBackend},
      # `<root_dir>/protocol_descriptors.json` for a {SegmentedFileBackend};
      # stores without a file backend keep descriptors in memory only.
      #
      # One entry per registration slot (kind, owner, name), last registration
      # wins, like the schema graph; access paths accumulate (one entry per
      # distinct content). Derivation descriptors store nothing, so they are
      # not journaled. The dedup registry stays per interpreter (doc/protocol.md "Descriptors").
      class DescriptorJournal
        # `kind` of a journal document (doc/format.md "Sidecar files").
        FILE_KIND = "igniter_ledger_protocol_descriptors"
        # Appended to a WAL path to name its journal.
        FILE_SUFFIX = ".descriptors.json"
        # Journal file name in a segmented root.
        SEGMENTED_FILE = "protocol_descriptors.json"
        # Descriptor kinds that store nothing and are not journaled.
        NOT_JOURNALED = %i[derivation].freeze

        # Opens the sidecar of +backend+ (if it has a file location) and
        # re-applies its descriptors to +store+. Called once per store, when
        # it is constructed; the store keeps the result in +@descriptor_journal+.
        # @param store [IgniterStore]
        # @param backend [Object, nil]
        # @return [DescriptorJournal, nil]
        # @raise [Igniter::Store::Error] for an unreadable sidecar
        def self.attach(store, backend)
          path = path_for(backend)
          return nil unless path

          journal = new(path)
          journal.restore(store)
          journal
        end

        # @return [DescriptorJournal, nil] the journal of +store+, if persistent
        def self.for(store)
          store.instance_variable_get(:@descriptor_journal)
        end

        # Only the library's own file backends: another backend's +path+
        # (a network one, say) is no local directory of ours.
        # @return [String, nil] sidecar path for +backend+
        def self.path_for(backend)
          if backend.is_a?(SegmentedFileBackend)
            File.join(backend.root_dir.to_s, SEGMENTED_FILE)
          elsif backend.is_a?(FileBackend)
            backend.path.to_s + FILE_SUFFIX
          end
        end

        # @return [String]
        attr_reader :path

        # @param path [String]
        def initialize(path)
          @path = path
          @lock = Monitor.new
          @entries = load_entries
        end

        # @return [Array<Hash>] the journaled descriptors, in application order
        # @raise [Igniter::Store::Error] for a malformed entry
        def descriptors
          @lock.synchronize { @entries.map { |e| TypedJson.decode(e["descriptor"]) } }
        rescue Error
          raise
        rescue StandardError => e
          raise Error, "protocol descriptor journal #{@path} has a malformed entry (#{e.class}: #{e.message})"
        end

        # Re-applies every journaled descriptor through its handler.
        # @return [void]
        def restore(store)
          descriptors.each do |descriptor|
            handler = Interpreter::HANDLERS[descriptor[:kind].to_sym]
            handler&.new(store)&.call(descriptor)
          end
        end

        # Records an accepted descriptor (top-level Symbol keys, as given to
        # its handler), replacing the entry of the same slot.
        # @param kind [Symbol]
        # @param descriptor [Hash]
        # @return [String, nil] a warning when the descriptor could not be persisted
        def record(kind, descriptor)
          return nil if NOT_JOURNALED.include?(kind)

          encoded = TypedJson.encode(descriptor)
          return "descriptor applied but not persisted: it holds a value JSON cannot carry" if encoded.nil?

          entry = { "slot" => slot(kind, descriptor), "descriptor" => encoded }
          @lock.synchronize do
            return nil if @entries.include?(entry)

            # Written before it is adopted, so a failed write leaves the
            # journal as it is on disk.
            entries = @entries.reject { |e| e["slot"] == entry["slot"] } << entry
            write(entries)
            @entries = entries
          end
          nil
        rescue SystemCallError, IOError => e
          "descriptor applied but not persisted: #{e.message}"
        end

        private

        def slot(kind, descriptor)
          return [kind.to_s, Fingerprint.of(descriptor)] if kind == :access_path

          [kind.to_s, descriptor[:owner].to_s, descriptor[:name].to_s]
        end

        def load_entries
          return [] unless File.exist?(@path)

          doc = JSON.parse(File.read(@path))
          unless doc.is_a?(Hash) && doc["kind"] == FILE_KIND && doc["entries"].is_a?(Array)
            raise Error, "protocol descriptor journal #{@path} is not a #{FILE_KIND} document"
          end

          doc["entries"]
        rescue JSON::ParserError, EncodingError, SystemCallError => e
          raise Error, "protocol descriptor journal #{@path} is unreadable (#{e.class}: #{e.message}); " \
                       "move it away to open the store without its registered descriptors"
        end

        def write(entries)
          Segmented::AtomicFile.write_json(@path, { "kind" => FILE_KIND, "schema_version" => 1, "entries" => entries },
                                           sync: true)
        end

        # JSON that keeps Ruby types apart (Symbol vs String, Integer vs
        # Float) and Hash key order, so a restored descriptor is the one
        # registered.
        module TypedJson
          # Float texts JSON cannot carry as numbers.
          NON_FINITE = { "NaN" => Float::NAN, "Infinity" => Float::INFINITY, "-Infinity" => -Float::INFINITY }.freeze

          # @return [Array, nil] nil when +obj+ holds something else than
          #   Hash, Array, Symbol, String, Integer, Float, true, false, nil
          def self.encode(obj)
            case obj
            when Hash
              pairs = obj.map { |k, v| [encode(k), encode(v)] }
              pairs.flatten(1).include?(nil) ? nil : ["h", pairs]
            when Array
              items = obj.map { |v| encode(v) }
              items.include?(nil) ? nil : ["a", items]
            when Symbol then ["y", obj.name]
            when String then obj.valid_encoding? ? ["s", obj.encode(Encoding::UTF_8)] : nil
            when Integer then ["i", obj.to_s]
            when Float then ["f", obj.to_s]
            when true, false, nil then ["l", obj]
            end
          rescue EncodingError
            nil
          end

          # @return [Object]
          # @raise [Igniter::Store::Error] for a malformed tree
          def self.decode(node)
            tag, value = node
            case tag
            when "h" then value.to_h { |k, v| [decode(k), decode(v)] }
            when "a" then value.map { |v| decode(v) }
            when "y" then value.to_sym
            when "s" then value
            when "i" then Integer(value, 10)
            when "f" then NON_FINITE.fetch(value) { Float(value) }
            when "l" then value
            else raise Error, "protocol descriptor journal: unknown node #{node.inspect}"
            end
          end
        end
      end
    end
  end
end
