# frozen_string_literal: true

require_relative "replay_order"

module Igniter
  module Store
    module CLI
      # A WAL ledger (the WAL and its snapshot) read at rest: both files
      # scanned with the salvage scanner of an open (doc/format.md
      # "Recovery"), every frame body decoded, nothing written.
      class WalAtRest
        # The `type` of a snapshot's first frame (doc/format.md "Snapshot").
        SNAPSHOT_HEADER_TYPE = "snapshot_header"
        DECODES = ->(body) { JsonCanon.decode_fact_body(body) }
        private_constant :DECODES

        # One scanned file: its role (`:wal` or `:snapshot`), the bytes scanned,
        # the scanner's segments, the facts of its frames in file order, and the
        # snapshot header (a Hash) when there is one.
        FileScan = Struct.new(:path, :role, :size, :scan, :facts, :header, keyword_init: true) do
          # @return [Integer] sound frames (a snapshot header included)
          def frames
            scan.segments.sum { |s| s.kind == :frames ? s.count : 0 } + (header ? 1 : 0)
          end

          # @return [Array<Array(Integer, Integer, Symbol)>] offset, length, reason of each damaged span
          def spans
            scan.damage.map { |s| [s.offset, s.length, s.reason] }
          end

          # @return [Integer] where the last sound frame ends (0 without one)
          def sound_end
            last = scan.segments.reverse.find { |s| s.kind == :frames }
            header_end = header ? header[:frame_length] : 0
            last ? last.offset + last.length : header_end
          end
        end

        # Scans one file (the first +size+ bytes of +io+).
        #
        # @param io [File] open for reading
        # @param path [String]
        # @param role [Symbol] `:wal` or `:snapshot`
        # @param size [Integer] bytes to scan
        # @param progress [#call, nil] told each frame's offset
        # @return [FileScan]
        def self.scan(io, path, role, size: io.size, progress: nil)
          facts = []
          header = nil
          window = Recovery::Window.new(io, size)
          scan = Recovery::Scanner.new(window, DECODES).scan do |offset, body|
            progress&.call(offset)
            if role == :snapshot && offset.zero? && (doc = snapshot_header(body))
              header = doc.merge(frame_length: body.bytesize + Recovery::Scanner::OVERHEAD)
              next :header
            end
            fact = WalAtRest.fact(body)
            next :undecodable unless fact

            facts << fact
            :keep
          end
          FileScan.new(path: path, role: role, size: size, scan: scan, facts: facts, header: header)
        end

        # A frame body as a fact, by the decoding rules of doc/format.md:
        # `Fact._load` (the Marshal form of a fact is its body) decodes in Rust
        # on the native path and with FactDecode on the pure one.
        #
        # @param body [String]
        # @return [Fact, nil] nil when the body breaks a rule
        def self.fact(body)
          Fact._load(body)
        rescue ArgumentError
          nil
        end

        # @return [Hash, nil]
        def self.snapshot_header(body)
          doc = JsonCanon.parse_object(body)
          doc if doc && doc[:type] == SNAPSHOT_HEADER_TYPE
        end

        # Reads the WAL at +path+ and its snapshot.
        #
        # @param path [String]
        # @param progress [#progress=]
        # @return [WalAtRest]
        # @raise [NotALedgerError] the file does not start like a ledger
        def self.read(path, progress: Progress::NONE)
          snapshot_path = path + FileBackend::SNAPSHOT_SUFFIX
          File.open(path, "rb") do |io|
            refuse_unless_ledger(io, path)
            wal_size = io.size
            wal = scan(io, path, :wal, progress: ->(at) { progress.progress = at })
            snapshot = begin
              File.open(snapshot_path, "rb") do |snap|
                scan(snap, snapshot_path, :snapshot, progress: ->(at) { progress.progress = wal_size + at })
              end
            rescue Errno::ENOENT
              nil
            end
            new(path, wal, snapshot)
          end
        end

        # The rule of an open (doc/format.md "Recovery", step 1).
        # @raise [NotALedgerError]
        def self.refuse_unless_ledger(io, path)
          return if Recovery::Scanner.new(Recovery::Window.new(io, io.size), DECODES).ledger?

          raise NotALedgerError.new(
            "#{path} is not an igniter-ledger WAL: no valid frame at offset 0 or anywhere after it", path: path
          )
        end

        # @return [String]
        attr_reader :path
        # @return [FileScan]
        attr_reader :wal
        # @return [FileScan, nil]
        attr_reader :snapshot
        # @return [Integer, Symbol, nil] pid of the writer that held the lock
        #   while this was read (`:unknown` when it recorded none), nil when none
        attr_accessor :writer_pid

        # @param path [String]
        # @param wal [FileScan]
        # @param snapshot [FileScan, nil]
        def initialize(path, wal, snapshot)
          @path = path
          @wal = wal
          @snapshot = snapshot
        end

        # @return [String] short: the path and what was read (not every fact)
        def inspect
          "#<#{self.class.name} #{@path} #{files.size} file(s), #{written.size} fact(s)>"
        end

        # @return [Symbol] `:wal`
        def kind
          :wal
        end

        # @return [Array<FileScan>] the WAL, then the snapshot if there is one
        def files
          [@wal, @snapshot].compact
        end

        # @return [Array<Fact>] what an open serves: snapshot facts, then the
        #   WAL facts not in the snapshot, stably sorted by transaction_time
        def facts
          @facts ||= ReplayOrder.sorted(written)
        end

        # @return [Array<Fact>] the same facts in the order they were written
        #   (snapshot first): the order causation was assigned in
        def written
          @written ||= begin
            snap = @snapshot ? @snapshot.facts : []
            ids = snap.to_h { |fact| [fact.id, true] }
            snap + @wal.facts.reject { |fact| ids.key?(fact.id) }
          end
        end

        # @return [Hash{String=>String}] codec of each store's facts ("json" for a WAL)
        def codecs
          written.map { |f| f.store.to_s }.uniq.to_h { |store| [store, "json"] }
        end

        # What the next writer's open would do with the WAL (doc/format.md
        # "Recovery report"), with the snapshot's spans (copied to quarantine
        # by the writer's first replay, never cut) added.
        #
        # @return [Hash] the FileBackend#recovery shape, `read_only: true`
        def recovery
          plan = Recovery::Plan.new(@wal.scan, :salvage, @path)
          report = plan.report(mode: :salvage, read_only: true, path: @path, original_size: @wal.size,
                               paths: [nil] * plan.quarantine.size)
          return report unless @snapshot && !@snapshot.spans.empty?

          file = File.absolute_path(@snapshot.path)
          extra = @snapshot.spans.map do |offset, length, reason|
            { file: file, offset: offset, length: length, reason: reason, quarantine_path: nil }
          end
          report.merge(quarantined: report[:quarantined] + extra, damaged_spans: report[:damaged_spans] + extra.size,
                       tail: report[:tail] == :clean ? extra.first[:reason] : report[:tail])
        end

        # @return [Array<String>] quarantine directories of the WAL and the snapshot
        def quarantine_dirs
          [@path, @path + FileBackend::SNAPSHOT_SUFFIX].map { |f| Recovery::Quarantine.dir_for(f) }
        end

        # @return [Array<String>] files beside the WAL that belong to it
        #   (snapshot, descriptor journal, lock file, leftovers of a crash)
        def sidecars
          %w[.snap .descriptors.json .lock .snap.tmp .recovery.tmp].map { |s| @path + s }.select { |f| File.file?(f) }
        end
      end
    end
  end
end
