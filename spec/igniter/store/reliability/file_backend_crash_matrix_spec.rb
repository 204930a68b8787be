# frozen_string_literal: true

# Crash matrix for the single-file WAL: the last frames are cut at every byte
# offset and hit by single bit flips. Each damaged copy must reopen, lose no
# valid frame (a flipped frame costs only itself, a cut only the torn bytes),
# hold every cut byte in quarantine, and take a new write that survives the
# next reopen with its causation pointing at the key's last surviving fact.
module LedgerSpec
  # Namespace for this file's constants (a describe block would put them on Object).
  module FileBackendCrashMatrixSpec
    RSpec.describe "FileBackend crash matrix (last frames truncated and bit-flipped)" do
      include LedgerSpec::Reliability

      DAMAGED_FRAMES = 3

      around { |ex| with_scratch_dir { |dir| @dir = dir; ex.run } }

      let(:path) { File.join(@dir, "ledger.wal") }

      # Six facts over two keys (so every damaged frame sits inside a chain), with
      # multi-byte text so byte offsets and character offsets differ.
      let!(:originals) do
        store = open_file_store(path)
        facts = Array.new(6) { |i| store.write(store: :orders, key: "o#{i % 2}", value: { n: i, note: "é#{i}" }) }
        store.close
        facts
      end
      let(:pristine) { File.binread(path) }
      let(:frames) { parse_frames(path) }

      # Reopens the damaged WAL and returns a list of what went wrong (empty = as
      # specified). +kept+: indexes of the frames that must survive; +span+: the
      # byte range that must be cut and quarantined (nil: none); +reasons+: the
      # acceptable receipt reasons.
      def reopen_problems(damaged, kept:, span:, reasons:)
        File.binwrite(path, damaged)
        FileUtils.rm_rf(path + ".quarantine")
        problems = []
        store = open_file_store(path)
        recovery = backend_of(store).recovery
        problems.concat(quarantine_problems(recovery, damaged, span, reasons))
        kept_bytes = kept.map { |i| pristine.byteslice(frames[i][:offset], frames[i][:size]) }.join
        problems << "file is not the kept frames" if File.binread(path) != kept_bytes
        problems << "valid_bytes #{recovery[:valid_bytes]}" if recovery[:valid_bytes] != kept_bytes.bytesize
        expected = kept.map { |i| originals[i] }
        problems << "replayed #{fact_ids(store).size} facts" if fact_ids(store) != expected.map(&:id)
        later = store.write(store: :orders, key: "o0", value: { n: "later" })
        problems << "later causation" if later.causation != expected.select { |f| f.key == "o0" }.last&.id
        store.close

        reopened = open_file_store(path)
        facts = reopened.fact_log_all
        problems << "after new write: #{facts.size} facts" if facts.map(&:id) != expected.map(&:id) + [later.id]
        problems << "values differ" if facts.first(kept.size).map(&:value) != expected.map(&:value)
        again = backend_of(reopened).recovery
        problems << "recovery on second open" unless again[:truncated_bytes].zero? && again[:damaged_spans].zero?
        reopened.close
        problems
      end

      def quarantine_problems(recovery, damaged, span, reasons)
        if span.nil? || span.size.zero?
          return recovery[:quarantined].empty? && recovery[:tail] == :clean ? [] : ["quarantined #{recovery[:quarantined]}"]
        end

        spans = recovery[:quarantined]
        return ["#{spans.size} spans"] unless spans.size == 1

        got = spans.first
        problems = []
        problems << "span #{got[:offset]}+#{got[:length]}" if got[:offset] != span.begin || got[:length] != span.size
        problems << "reason #{got[:reason].inspect}" unless reasons.include?(got[:reason])
        problems << "tail #{recovery[:tail].inspect}" unless recovery[:tail] == got[:reason]
        problems << "truncated #{recovery[:truncated_bytes]}" if recovery[:truncated_bytes] != span.size
        problems << "quarantine copy differs" if File.binread(got[:quarantine_path]) != damaged.byteslice(span.begin, span.size)
        problems
      end

      # The byte range of the frame +from_end+ (1 = last).
      def frame_range(from_end)
        frame = frames[-from_end]
        frame[:offset]...(frame[:offset] + frame[:size])
      end

      (1..DAMAGED_FRAMES).each do |from_end|
        it "keeps every whole frame and quarantines the torn bytes of a cut at every byte offset of frame #{from_end} from the end" do
          range = frame_range(from_end)
          failures = range.filter_map do |offset|
            whole = frame_index_at(frames, offset)
            start = whole.zero? ? 0 : frames[whole - 1][:offset] + frames[whole - 1][:size]
            problems = reopen_problems(pristine.byteslice(0, offset), kept: (0...whole).to_a,
                                                                      span: start...offset, reasons: [:torn])
            "cut at #{offset}: #{problems.join(", ")}" unless problems.empty?
          end

          expect(range.size).to be > 100
          expect(failures).to be_empty
        end

        it "loses only the damaged frame to a single flipped bit at every byte of frame #{from_end} from the end" do
          range = frame_range(from_end)
          index = frames.size - from_end
          last = from_end == 1
          failures = range.filter_map do |offset|
            in_length = offset - frames[index][:offset] < 4
            # A damaged length makes the frame a run of garbage before the next one; at
            # the end it may point past the end, above the limit, or at a wrong CRC.
            reasons = if in_length
                        last ? %i[torn oversized bad_crc garbage] : %i[garbage bad_crc]
                      else
                        [:bad_crc]
                      end
            bit = offset % 8
            problems = reopen_problems(flip_bit(pristine, offset, bit), kept: (0...frames.size).to_a - [index],
                                                                        span: range, reasons: reasons)
            "bit #{bit} of byte #{offset}: #{problems.join(", ")}" unless problems.empty?
          end

          expect(failures).to be_empty
        end
      end

      it "loses only the last frame to every bit of its length header flipped" do
        failures = (0...4).flat_map do |i|
          (0...8).filter_map do |bit|
            problems = reopen_problems(flip_bit(pristine, frames.last[:offset] + i, bit),
                                       kept: (0...(frames.size - 1)).to_a, span: frame_range(1),
                                       reasons: %i[torn oversized bad_crc garbage])
            "bit #{bit} of length byte #{i}: #{problems.join(", ")}" unless problems.empty?
          end
        end

        expect(failures).to be_empty
      end
    end
  end
end
