# frozen_string_literal: true

# Crash matrix for the segmented backend: the last frames of a segment are cut
# at byte offsets and hit by single bit flips, both in a segment left unsealed
# by a crash (recovered as an orphan on open) and in a sealed one (read against
# its manifest). Every reopen must succeed with every fact of an intact frame —
# before and after the damage — copy every byte it skips or cuts into the
# segment's quarantine sidecar, cut an orphan only after its last kept frame,
# leave a sealed segment byte for byte, and keep a new write across the next
# reopen (which finds nothing new to quarantine).
module LedgerSpec
  # Namespace for this file's constants (a describe block would put them on Object).
  module SegmentedCrashMatrixSpec
    RSpec.describe "SegmentedFileBackend crash matrix (last frames truncated and bit-flipped)" do
      include LedgerSpec::Reliability

      # Sampled runs cover the last three frames.
      SAMPLED_FRAMES = 3
      FACTS = 6
      REASONS = %i[torn bad_crc oversized garbage].freeze

      around { |ex| with_scratch_dir { |dir| @dir = dir; ex.run } }

      let(:pristine_root) { File.join(@dir, "pristine") }
      let(:options) { { time_bucket: :none } }

      # Writes FACTS facts over two keys; :orphan leaves the live segment unsealed
      # (its raw IO closed under the backend and its lock dropped, as a dying
      # process's would be), :sealed closes the store normally.
      def build(mode, **extra)
        store = open_segmented_store(pristine_root, **options, **extra)
        facts = Array.new(FACTS) { |i| store.write(store: :orders, key: "o#{i % 2}", value: { n: i, note: "é#{i}" }) }
        if mode == :orphan
          backend = backend_of(store)
          segments = backend.instance_variable_get(:@segments)
          segments.each_value { |seg| seg[:file].close }
          segments.clear
          backend.instance_variable_get(:@lock).release
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

      def same_facts?(got, want, exact_ids)
        got.size == want.size && got.zip(want).all? { |g, w| same_fact?(g, w, exact_ids) }
      end

      # The pristine tree as {relative path => bytes}.
      def snapshot_tree(dir)
        Dir.glob("**/*", base: dir).select { |rel| File.file?(File.join(dir, rel)) }
           .to_h { |rel| [rel, File.binread(File.join(dir, rel))] }
      end

      def quarantine_files(root)
        Dir.glob(File.join(root, "**", "*.quarantine", "*")).sort
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
      def reopen_problems(mode, damaged, expected:, kept_end:, exact_ids: true, **extra)
        root, segment = damaged_copy(damaged)
        problems = []

        store = open_segmented_store(root, **options, **extra)
        backend = backend_of(store)
        facts = store.fact_log_all
        problems << "replayed #{facts.size} facts, expected #{expected.size}" unless same_facts?(facts, expected, exact_ids)
        problems.concat(report_problems(mode, backend, segment, damaged, expected.size, kept_end))

        later = store.write(store: :orders, key: "o0", value: { n: "later" })
        store.close
        before = quarantine_files(root)
        reopened = open_segmented_store(root, **options, **extra)
        again = reopened.fact_log_all
        problems << "after new write: #{again.size} facts" unless again.size == expected.size + 1 &&
                                                                 same_fact?(again.last, later, exact_ids)
        problems << "broken causation" if exact_ids && !chains_intact?(again, expected, @originals)
        problems << "orphans on second open" if backend_of(reopened).recovery[:files].any? { |_, r| r[:state] == :orphan }
        problems << "new quarantine files on second open" unless quarantine_files(root) == before
        reopened.close
        problems
      end

      # Each fact's causation is the previous surviving fact of its key, or a
      # fact lost to the damage (its bytes are in quarantine).
      def chains_intact?(facts, kept, originals)
        lost = originals.map(&:id) - kept.map(&:id)
        previous = {}
        facts.all? do |fact|
          slot = fact.key
          ok = fact.causation == previous[slot] || lost.include?(fact.causation)
          previous[slot] = fact.id
          ok
        end
      end

      # Every quarantined span holds exactly the damaged bytes at its offset,
      # and together with the bytes left in the file they cover the file.
      def quarantine_problems(report, segment, damaged)
        left = File.exist?(segment) ? File.binread(segment) : +""
        return ["file changed before its cut point"] unless damaged.start_with?(left)

        covered = Array.new(damaged.bytesize, false)
        left.bytesize.times { |i| covered[i] = true }
        report[:quarantined].each do |span|
          copy = span[:quarantine_path] && File.binread(span[:quarantine_path])
          return ["quarantine copy of #{span.inspect} differs"] unless copy == damaged.byteslice(span[:offset], span[:length])

          span[:length].times { |i| covered[span[:offset] + i] = true }
        end
        covered.all? ? [] : ["cut bytes missing from quarantine"]
      end

      def report_problems(mode, backend, segment, damaged, kept_facts, kept_end)
        report = backend.recovery[:files][segment]
        if mode == :orphan
          return (damaged.empty? ? [] : ["no recovery entry"]) unless report
          return ["recovery entry #{report.inspect}"] unless report[:fact_count] == kept_facts && report[:state] == :orphan
          return ["reasons #{report[:quarantined].map { |s| s[:reason] }}"] unless report[:quarantined].all? { |s| REASONS.include?(s[:reason]) }

          size = File.exist?(segment) ? File.size(segment) : 0
          return ["segment cut to #{size}, expected #{kept_end}"] unless size == kept_end
          return ["truncated_bytes #{report[:truncated_bytes]}"] unless report[:truncated_bytes] == damaged.bytesize - kept_end

          quarantine_problems(report, segment, damaged)
        else
          return ["no recovery entry"] unless report
          return ["sealed segment changed"] unless File.binread(segment) == damaged

          receipts = backend.quarantine_receipts(store: :orders)
          return ["#{receipts.size} quarantine receipts"] unless receipts.size == 1
          return ["receipt says #{receipts[0]["error_message"]}"] unless
            receipts[0]["segment_path"] == segment && receipts[0]["error_message"].start_with?("decoded #{kept_facts} of")

          quarantine_problems(report, segment, damaged)
        end
      end

      # Runs the matrix over the last SAMPLED_FRAMES frames, or over the one
      # frame +from_end+ (1 = last); +every+ samples every n-th byte.
      def matrix(mode, damage, every: 1, from_end: nil, header_frames: 0, exact_ids: true, **extra)
        @originals = build(mode, **extra)
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
          if damage == :cut
            damaged = pristine.byteslice(0, offset)
            expected = @originals.first([index - header_frames, 0].max)
          else
            damaged = flip_bit(pristine, offset, offset % 8)
            expected = @originals.reject.with_index { |_, i| i == index - header_frames }
          end
          # An orphan is cut after its last kept frame; a sealed segment never.
          tail = damage == :cut || index == frames.size - 1
          prefix_end = index.zero? ? 0 : frames[index - 1][:offset] + frames[index - 1][:size]
          kept_end = mode == :orphan && tail ? prefix_end : damaged.bytesize
          problems = reopen_problems(mode, damaged, expected: expected, kept_end: kept_end, exact_ids: exact_ids, **extra)
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

        it "keeps every other fact of a sealed json segment bit-flipped at every byte of its #{which} frame" do
          count, failures = matrix(:sealed, :flip, from_end: from_end)
          expect(count).to be > 100
          expect(failures).to be_empty
        end
      end

      it "keeps every other fact of a crashed (unsealed) json segment with a bit flipped in its last frames" do
        count, failures = matrix(:orphan, :flip, every: 3)
        expect(count).to be > 100
        expect(failures).to be_empty
      end

      it "keeps the good prefix of a sealed json segment cut inside its last frames, the cut-off tail reported" do
        count, failures = matrix(:sealed, :cut, every: 3)
        expect(count).to be > 100
        expect(failures).to be_empty
      end

      { sealed: "sealed", orphan: "crashed (unsealed)" }.each do |mode, which|
        it "keeps every other batch of a #{which} compact_delta segment damaged in its last frames" do
          # One batch frame per fact (flush: :on_write) after the MessagePack header frame.
          count, failures = matrix(mode, :flip, every: 2, header_frames: 1, exact_ids: false,
                                                codec: :compact_delta, flush: :on_write)
          expect(count).to be > 30
          expect(failures).to be_empty
        end
      end
    end
  end
end
