# frozen_string_literal: true

# Crash matrix for the single-file WAL: the last frames are cut at every byte
# offset and hit by single bit flips. Each damaged copy must reopen, keep
# exactly the frames before the damage, report the cut, and take a new write
# that survives the next reopen with its causation chain intact.
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
      # specified). +kept+ frames must survive; +tails+ are the acceptable kinds.
      def reopen_problems(damaged, kept:, tails:)
        File.binwrite(path, damaged)
        problems = []
        store = open_file_store(path)
        recovery = backend_of(store).recovery
        kept_bytes = kept.zero? ? 0 : frames[kept - 1][:offset] + frames[kept - 1][:size]
        problems << "truncated #{recovery[:truncated_bytes]}" if recovery[:truncated_bytes] != damaged.bytesize - kept_bytes
        problems << "tail #{recovery[:tail].inspect}" unless tails.include?(recovery[:tail])
        problems << "file size #{File.size(path)}" if File.size(path) != kept_bytes
        expected = originals.first(kept)
        problems << "replayed #{fact_ids(store).size} facts" if fact_ids(store) != expected.map(&:id)
        later = store.write(store: :orders, key: "o0", value: { n: "later" })
        store.close

        reopened = open_file_store(path)
        facts = reopened.fact_log_all
        problems << "after new write: #{facts.size} facts" if facts.map(&:id) != expected.map(&:id) + [later.id]
        problems << "broken causation" unless broken_causation(facts).empty?
        problems << "values differ" if facts.first(kept).map(&:value) != expected.map(&:value)
        problems << "recovery on second open" unless backend_of(reopened).recovery[:truncated_bytes].zero?
        reopened.close
        problems
      end

      # The byte range of the frame +from_end+ (1 = last).
      def frame_range(from_end)
        frame = frames[-from_end]
        frame[:offset]...(frame[:offset] + frame[:size])
      end

      (1..DAMAGED_FRAMES).each do |from_end|
        it "recovers exactly the complete frames before a cut at every byte offset of frame #{from_end} from the end" do
          range = frame_range(from_end)
          boundaries = frames.map { |f| f[:offset] }
          failures = range.filter_map do |offset|
            kept = frame_index_at(frames, offset)
            tails = boundaries.include?(offset) ? [:clean] : [:torn]
            problems = reopen_problems(pristine.byteslice(0, offset), kept: kept, tails: tails)
            "cut at #{offset}: #{problems.join(", ")}" unless problems.empty?
          end

          expect(range.size).to be > 100
          expect(failures).to be_empty
        end

        it "recovers exactly the frames before a single flipped bit at every byte of frame #{from_end} from the end" do
          range = frame_range(from_end)
          failures = range.filter_map do |offset|
            kept = frame_index_at(frames, offset)
            in_length = offset - frames[kept][:offset] < 4
            # A damaged length may point past the end, above the limit, or at a wrong CRC.
            tails = in_length ? %i[torn oversized bad_crc] : [:bad_crc]
            bit = offset % 8
            problems = reopen_problems(flip_bit(pristine, offset, bit), kept: kept, tails: tails)
            "bit #{bit} of byte #{offset}: #{problems.join(", ")}" unless problems.empty?
          end

          expect(failures).to be_empty
        end
      end

      it "recovers from every bit of the last frame's length header flipped" do
        last = frames.last
        failures = (0...4).flat_map do |i|
          (0...8).filter_map do |bit|
            problems = reopen_problems(flip_bit(pristine, last[:offset] + i, bit),
                                       kept: frames.size - 1, tails: %i[torn oversized bad_crc])
            "bit #{bit} of length byte #{i}: #{problems.join(", ")}" unless problems.empty?
          end
        end

        expect(failures).to be_empty
      end
    end
  end
end
