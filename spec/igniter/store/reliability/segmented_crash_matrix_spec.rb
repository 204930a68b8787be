# frozen_string_literal: true

# Crash matrix for the segmented backend: the last frames of a segment are cut
# at byte offsets and hit by single bit flips, both in a segment left unsealed
# by a crash (recovered as an orphan on open) and in a sealed one (read against
# its manifest). Every reopen must succeed with exactly the facts of the frames
# before the damage, say what it cut (orphan recovery) or quarantined (sealed
# segment), and keep a new write across the next reopen.
module LedgerSpec
  # Namespace for this file's constants (a describe block would put them on Object).
  module SegmentedCrashMatrixSpec
    RSpec.describe "SegmentedFileBackend crash matrix (last frames truncated and bit-flipped)" do
      include LedgerSpec::Reliability

      # Sampled runs cover the last three frames.
      SAMPLED_FRAMES = 3
      FACTS = 6

      around { |ex| with_scratch_dir { |dir| @dir = dir; ex.run } }

      let(:pristine_root) { File.join(@dir, "pristine") }
      let(:options) { { time_bucket: :none } }

      # Writes FACTS facts over two keys; :orphan leaves the live segment unsealed
      # (its raw IO closed under the backend, as spec 03's crash specs do),
      # :sealed closes the store normally.
      def build(mode, **extra)
        store = open_segmented_store(pristine_root, **options, **extra)
        facts = Array.new(FACTS) { |i| store.write(store: :orders, key: "o#{i % 2}", value: { n: i, note: "é#{i}" }) }
        if mode == :orphan
          segments = backend_of(store).instance_variable_get(:@segments)
          segments.each_value { |seg| seg[:file].close }
          segments.clear
        else
          store.close
        end
        facts
      end

      def segment_path(dir)
        paths = Dir.glob(File.join(dir, "wal", "store=orders", "date=*", "segment-*.wal"))
        raise "expected one segment in #{dir}, found #{paths.size}" unless paths.size == 1

        paths.first
      end

      def same_fact?(got, want, exact_ids)
        exact_ids ? got.id == want.id : [got.key, got.value] == [want.key, want.value]
      end

      # The pristine tree as {relative path => bytes}.
      def snapshot_tree(dir)
        Dir.glob("**/*", base: dir).select { |rel| File.file?(File.join(dir, rel)) }
           .to_h { |rel| [rel, File.binread(File.join(dir, rel))] }
      end

      # A fresh copy of the pristine tree (cheaper than rm_rf + cp_r per case)
      # with the segment's bytes replaced by +damaged+. Returns [root, segment].
      def damaged_copy(damaged)
        @copies = (@copies || 0) + 1
        root = File.join(@dir, "work#{@copies}")
        @pristine_tree.each do |rel, bytes|
          path = File.join(root, rel)
          FileUtils.mkdir_p(File.dirname(path))
          File.binwrite(path, rel == @segment_rel ? damaged : bytes)
        end
        [root, File.join(root, @segment_rel)]
      end

      # Reopens a damaged copy twice around one new write, and lists what
      # deviates from the spec.
      def reopen_problems(mode, damaged, kept_facts:, kept_bytes:, originals:, exact_ids: true, **extra)
        root, segment = damaged_copy(damaged)
        problems = []

        store = open_segmented_store(root, **options, **extra)
        backend = backend_of(store)
        facts = store.fact_log_all
        expected = originals.first(kept_facts)
        if facts.size != expected.size || !facts.zip(expected).all? { |g, w| same_fact?(g, w, exact_ids) }
          problems << "replayed #{facts.size} facts, expected #{kept_facts}"
        end
        problems.concat(report_problems(mode, backend, segment, damaged, kept_facts, kept_bytes))

        later = store.write(store: :orders, key: "o0", value: { n: "later" })
        store.close
        reopened = open_segmented_store(root, **options, **extra)
        again = reopened.fact_log_all
        problems << "after new write: #{again.size} facts" unless again.size == kept_facts + 1 &&
                                                                 same_fact?(again.last, later, exact_ids)
        problems << "broken causation" if exact_ids && !broken_causation(again).empty?
        problems << "orphans on second open" unless backend_of(reopened).recovery.empty?
        reopened.close
        problems
      end

      def report_problems(mode, backend, segment, damaged, kept_facts, kept_bytes)
        if mode == :orphan
          entry = backend.recovery.find { |r| r["segment_path"] == segment }
          return ["no recovery entry"] unless entry
          return ["recovery entry #{entry.inspect}"] unless entry["fact_count"] == kept_facts &&
                                                            entry["truncated_bytes"] == damaged.bytesize - kept_bytes
          return ["segment not cut to #{kept_bytes}"] unless File.size(segment) == kept_bytes

          []
        else
          receipts = backend.quarantine_receipts(store: :orders)
          return ["#{receipts.size} quarantine receipts"] unless receipts.size == 1
          return ["receipt says #{receipts[0]["error_message"]}"] unless
            receipts[0]["segment_path"] == segment && receipts[0]["error_message"].start_with?("decoded #{kept_facts} of")

          []
        end
      end

      # Runs the matrix over the last SAMPLED_FRAMES frames, or over the one
      # frame +from_end+ (1 = last); +every+ samples every n-th byte.
      def matrix(mode, damage, every: 1, from_end: nil, header_frames: 0, exact_ids: true, **extra)
        originals = build(mode, **extra)
        pristine = File.binread(segment_path(pristine_root))
        @pristine_tree = snapshot_tree(pristine_root)
        @segment_rel = segment_path(pristine_root).delete_prefix("#{pristine_root}/")
        frames = parse_frame_bytes(pristine)
        range = if from_end
                  frame = frames[-from_end]
                  frame[:offset]...(frame[:offset] + frame[:size])
                else
                  last_frames_range(frames, SAMPLED_FRAMES)
                end
        cases = range.step(every).to_a
        failures = cases.filter_map do |offset|
          index = frame_index_at(frames, offset)
          damaged = damage == :cut ? pristine.byteslice(0, offset) : flip_bit(pristine, offset, offset % 8)
          kept_bytes = index.zero? ? 0 : frames[index - 1][:offset] + frames[index - 1][:size]
          problems = reopen_problems(mode, damaged, kept_facts: index - header_frames, kept_bytes: kept_bytes,
                                                    originals: originals, exact_ids: exact_ids, **extra)
          "#{damage} at #{offset}: #{problems.join(", ")}" unless problems.empty?
        end
        [cases.size, failures]
      end

      { 1 => "last", 2 => "second-to-last", 3 => "third-to-last" }.each do |from_end, which|
        it "recovers a crashed (unsealed) json segment cut at every byte offset of its #{which} frame" do
          count, failures = matrix(:orphan, :cut, from_end: from_end)
          expect(count).to be > 100
          expect(failures).to be_empty
        end

        it "quarantines a sealed json segment bit-flipped at every byte of its #{which} frame, keeping the good prefix" do
          count, failures = matrix(:sealed, :flip, from_end: from_end)
          expect(count).to be > 100
          expect(failures).to be_empty
        end
      end

      it "recovers a crashed (unsealed) json segment with a bit flipped in its last frames" do
        count, failures = matrix(:orphan, :flip, every: 3)
        expect(count).to be > 100
        expect(failures).to be_empty
      end

      it "quarantines a sealed json segment cut inside its last frames, keeping the good prefix" do
        count, failures = matrix(:sealed, :cut, every: 3)
        expect(count).to be > 100
        expect(failures).to be_empty
      end

      it "keeps the good batch frames of a sealed compact_delta segment damaged in its last frames" do
        # One batch frame per fact (flush: :on_write) after the MessagePack header frame.
        count, failures = matrix(:sealed, :flip, every: 2, header_frames: 1, exact_ids: false,
                                                 codec: :compact_delta, flush: :on_write)
        expect(count).to be > 30
        expect(failures).to be_empty
      end
    end
  end
end
