import { describe, expect, it } from 'vitest';
import { daysBefore, volumeVerdict } from '../../core/transform/volume-anomaly.js';

describe('the 0.9×–1.15× median volume rule', () => {
  // Median of these seven days: 1000.
  const week = [980, 1000, 1020, 990, 1010, 1000, 1050];

  it.each([
    ['inside the band', 1000, 'pass'],
    ['exactly 0.9× the median', 900, 'pass'],
    ['exactly 1.15× the median', 1150, 'pass'],
    ['below 0.9×', 899, 'fail'],
    ['above 1.15×', 1151, 'fail'],
    ['a day with no data at all', 0, 'fail'],
  ])('%s', (_case, volume, status) => {
    expect(volumeVerdict(volume, week)).toMatchObject({ status, median: 1000, low: 900, high: 1150, historyDays: 7 });
  });

  it('does not judge with fewer than 5 of the previous 7 days', () => {
    expect(volumeVerdict(10, [1000, 1000, 1000, 1000])).toEqual({ status: 'not_enough_history', volume: 10, historyDays: 4 });
    expect(volumeVerdict(10, [1000, 1000, 1000, 1000, 1000])).toMatchObject({ status: 'fail', historyDays: 5 });
  });

  it('uses the median, so one spike in the history does not move the band', () => {
    expect(volumeVerdict(1100, [1000, 1000, 1000, 50_000, 1000, 1000, 1000])).toMatchObject({ status: 'pass', median: 1000 });
    // An even number of days: the mean of the middle two.
    expect(volumeVerdict(100, [80, 90, 110, 120, 100, 100])).toMatchObject({ median: 100 });
  });

  it('compares with the last 7 days only', () => {
    expect(volumeVerdict(100, [10, 10, 10, 100, 100, 100, 100, 100, 100, 100])).toMatchObject({ status: 'pass', median: 100, historyDays: 7 });
  });

  it('lists the days before a date, oldest first, across a month end', () => {
    expect(daysBefore('2026-03-02', 3)).toEqual(['2026-02-27', '2026-02-28', '2026-03-01']);
  });
});
