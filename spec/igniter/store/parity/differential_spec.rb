# frozen_string_literal: true

# The differential harness (spec/support/differential/): seeded cases of
# values, fact hashes, bodies, WALs and operation sequences run in a native
# and in a pure child process, whose transcripts (results, value hashes, WAL
# digests, error classes and messages) must be identical.
#
# Both runs of the suite execute this file, on different halves of the same
# seed's cases, so each run is a complete gate on its own and together they
# cover twice as many cases. `rake fuzz:diff` runs it long with random seeds
# and keeps every case that ever differed in the regressions file replayed here.
RSpec.describe "Differential harness: native and pure answer alike" do
  seed = 20_261_202
  per_run = 1_500
  first = Igniter::Store::NATIVE ? 0 : per_run

  def expect_no_differences(cases)
    differences = LedgerSpec::Differential::Harness.differences(cases)
    report = differences.first(3).map do |d|
      "case #{d.index}: #{d.kase.inspect[0, 400]}\n  native: #{d.native[0, 600]}\n  pure:   #{d.pure[0, 600]}"
    end
    expect(differences.size).to eq(0), "#{differences.size} of #{cases.size} cases differ:\n#{report.join("\n")}"
  end

  it "answers #{per_run} generated cases alike (seed #{seed}, cases #{first}...#{first + per_run})" do
    require_native_library!
    expect_no_differences(LedgerSpec::Differential::Generator.new(seed).cases(per_run, first: first))
  end

  it "answers every kept regression case alike" do
    require_native_library!
    kept = LedgerSpec::Differential::Harness.regressions
    expect(kept).not_to be_empty
    expect_no_differences(kept)
  end

  it "generates the same cases from the same seed" do
    a = LedgerSpec::Differential::Generator.new(7).cases(50)
    b = LedgerSpec::Differential::Generator.new(7).cases(50)
    expect(Marshal.dump(a)).to eq(Marshal.dump(b))
    expect(a.map(&:first).uniq.sort).to eq(%i[body fact ops value wal])
  end
end
