# frozen_string_literal: true

# The table of doc/bitemporal.md, case by case. One key, five writes:
#
#   t1  "a"   valid_time Jan 1
#   t2  "b"   valid_time Mar 1
#   t3  "c"   valid_time Feb 1   (back-dated: recorded after "b")
#   t4  "b2"  valid_time Mar 1   (a correction of "b")
#   t5  "d"   no valid_time      (valid from when it was recorded, t5)
#
# Times in the table are names: t0 is just before t1, jan1..apr1 are 2026
# dates, dec31 is 2025-12-31, t5 is the fifth fact's transaction time,
# far is a valid time after every fact.
module BitemporalTable
  VALID = {
    dec31: Time.utc(2025, 12, 31).to_f, jan1: Time.utc(2026, 1, 1).to_f, jan15: Time.utc(2026, 1, 15).to_f,
    feb1: Time.utc(2026, 2, 1).to_f, feb15: Time.utc(2026, 2, 15).to_f, mar1: Time.utc(2026, 3, 1).to_f,
    mar15: Time.utc(2026, 3, 15).to_f, apr1: Time.utc(2026, 4, 1).to_f
  }.freeze
  WRITES = [["a", :jan1], ["b", :mar1], ["c", :feb1], ["b2", :mar1], ["d", nil]].freeze

  # [as_of, valid_at, value read]
  READS = [
    [nil, :dec31, nil], [nil, :jan1, "a"], [nil, :jan15, "a"], [nil, :feb15, "c"], [nil, :mar1, "b2"],
    [nil, :apr1, "b2"], [nil, :t5, "d"], [nil, :far, "d"], [nil, nil, "d"],
    [:t0, :apr1, nil], [:t1, :feb15, "a"], [:t2, :feb15, "a"], [:t2, :apr1, "b"], [:t3, :feb15, "c"],
    [:t3, :apr1, "b"], [:t4, :apr1, "b2"], [:t4, :far, "b2"], [:t2, nil, "b"], [:t3, nil, "c"]
  ].freeze

  # [as_of, valid_from, valid_to, values of the valid-time history]
  HISTORIES = [
    [nil, :dec31, :far, %w[a c b2 d]], [nil, :jan15, :mar15, %w[a c b2]], [nil, :feb1, :feb1, %w[c]],
    [nil, :feb15, :feb15, %w[c]], [nil, :mar1, nil, %w[b2 d]], [nil, nil, :dec31, []], [nil, :t5, nil, %w[d]],
    [nil, nil, :jan1, %w[a]], [:t2, :dec31, nil, %w[a b]], [:t3, :jan15, :mar15, %w[a c b]],
    [:t0, :dec31, nil, []]
  ].freeze

  # Writes the table's facts into +store+ and returns every time name.
  # @return [Hash{Symbol => Float}]
  def self.write(store)
    times = WRITES.map do |value, valid|
      sleep 0.002 # distinct transaction times, so as_of t_n means "after the n-th write"
      store.write(store: :prices, key: "p1", value: value, valid_time: valid && VALID.fetch(valid)).transaction_time
    end
    VALID.merge(t0: times[0] - 1, t1: times[0], t2: times[1], t3: times[2], t4: times[3], t5: times[4],
                far: times[4] + 86_400)
  end
end
