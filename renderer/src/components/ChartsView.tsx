import { memo, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import {
  Area,
  CartesianGrid,
  ComposedChart,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import type { SeriesName, SeriesData } from '../store/types.ts';
import {
  addVarianceBand,
  lastValue,
  maxOf,
  mergeSeries,
  niceTicks,
  byteTicks,
  pointCount,
  type ChartRow,
} from '../lib/series.ts';
import { formatBits, formatBytes, formatCount, formatMs } from '../lib/format.ts';

/** Chart colours; the legend swatches use the same ones (app.css, `.swatch.<key>`). */
const COLORS: Record<string, string> = {
  cwnd: '#4f8cff',
  bytes_in_flight: '#38d9c0',
  ssthresh: '#a98bff',
  rtt_latest: '#8aa0c6',
  rtt_smoothed: '#4f8cff',
  rtt_min: '#38d9c0',
  band: '#4f8cff',
  packets_sent: '#4f8cff',
  packets_lost: '#ff6b6b',
  packets_retransmitted: '#f2a33a',
  throughput_sent: '#a98bff',
  throughput_received: '#38d9c0',
};

const LABELS: Record<string, string> = {
  cwnd: 'congestion window',
  bytes_in_flight: 'bytes in flight',
  ssthresh: 'ssthresh',
  rtt_latest: 'latest RTT',
  rtt_smoothed: 'smoothed RTT',
  rtt_min: 'min RTT',
  band: 'smoothed ± rttvar',
  packets_sent: 'sent',
  packets_lost: 'lost',
  packets_retransmitted: 'retransmitted',
  throughput_sent: 'sent',
  throughput_received: 'received',
};

/** One chart: the series it reads, the lines it draws (left and right axis), its units. */
interface ChartSpec {
  id: string;
  title: string;
  series: SeriesName[];
  left: string[];
  right?: string[];
  band?: boolean;
  format: (v: number) => string;
  formatRight?: (v: number) => string;
  /** How the left axis's ticks are chosen: round bytes (KiB, MiB), whole counts, or decimal. */
  scale?: 'bytes' | 'count';
  summary: (s: SeriesData) => string;
}

const SPECS: ChartSpec[] = [
  {
    id: 'cwnd',
    title: 'Congestion window',
    series: ['cwnd', 'bytes_in_flight', 'ssthresh'],
    left: ['cwnd', 'bytes_in_flight', 'ssthresh'],
    format: formatBytes,
    scale: 'bytes',
    summary: (s) =>
      `cwnd ${formatBytes(lastValue(s, 'cwnd'))} · in flight ${formatBytes(lastValue(s, 'bytes_in_flight'))}`,
  },
  {
    id: 'rtt',
    title: 'Round-trip time',
    series: ['rtt_latest', 'rtt_smoothed', 'rtt_min', 'rtt_variance'],
    left: ['rtt_latest', 'rtt_smoothed', 'rtt_min'],
    band: true,
    format: formatMs,
    summary: (s) =>
      `smoothed ${formatMs(lastValue(s, 'rtt_smoothed'))} · min ${formatMs(lastValue(s, 'rtt_min'))} · rttvar ${formatMs(lastValue(s, 'rtt_variance'))}`,
  },
  {
    id: 'packets',
    title: 'Packets',
    series: ['packets_sent', 'packets_lost', 'packets_retransmitted'],
    left: ['packets_sent'],
    right: ['packets_lost', 'packets_retransmitted'],
    format: formatCount,
    formatRight: formatCount,
    scale: 'count',
    summary: (s) =>
      `sent ${formatCount(lastValue(s, 'packets_sent'))} · lost ${formatCount(lastValue(s, 'packets_lost'))} · retransmitted ${formatCount(lastValue(s, 'packets_retransmitted'))}`,
  },
  {
    id: 'throughput',
    title: 'Throughput',
    series: ['throughput_sent', 'throughput_received'],
    left: ['throughput_received', 'throughput_sent'],
    format: formatBits,
    summary: (s) =>
      `received ${formatBits(lastValue(s, 'throughput_received'))} · sent ${formatBits(lastValue(s, 'throughput_sent'))}`,
  },
];

/** Most redraws of the charts per second: 1000 / CHART_REDRAW_MS (recharts redraws are costly). */
const CHART_REDRAW_MS = 1000;

/**
 * The value of `value`, updated at most once every `ms`, in the time slots `phase` (mod `ms`) of the
 * page's clock: charts given different phases never redraw in the same task, so each redraw is one
 * short task rather than all of them one long one.
 */
function useThrottled<T>(value: T, ms: number, phase: number): T {
  const [shown, setShown] = useState(value);
  const last = useRef(-Infinity);
  useEffect(() => {
    if (value === shown) return;
    const now = performance.now();
    const slot = now + ((((phase - now) % ms) + ms) % ms);
    const at = Math.max(slot, last.current + ms);
    const timer = setTimeout(() => {
      last.current = performance.now();
      setShown(value);
    }, at - now);
    return () => clearTimeout(timer);
  }, [value, shown, ms, phase]);
  return shown;
}

const timeLabel = (t: number) =>
  t < 1000 ? `${t.toFixed(t < 10 ? 1 : 0)} ms` : `${(t / 1000).toFixed(t < 10_000 ? 1 : 0)} s`;
const axisTick = { fill: '#8b98b5', fontSize: 11 };
const MARGIN = { top: 8, right: 12, bottom: 0, left: 4 };

function Legend(props: { keys: string[] }): ReactNode {
  return (
    <ul className="legend">
      {props.keys.map((k) => (
        <li key={k}>
          <span className={`swatch ${k}`} aria-hidden="true" />
          {LABELS[k]}
        </li>
      ))}
    </ul>
  );
}

function line(key: string, yAxisId: string): ReactNode {
  return (
    <Line
      key={key}
      type="linear"
      dataKey={key}
      name={LABELS[key]}
      stroke={COLORS[key]}
      dot={false}
      activeDot={false}
      strokeWidth={1.6}
      connectNulls
      isAnimationActive={false}
      yAxisId={yAxisId}
    />
  );
}

function leftTicks(spec: ChartSpec, max: number): number[] {
  if (spec.scale === 'bytes') return byteTicks(max);
  return niceTicks(0, max, 5, spec.scale === 'count' ? 1 : 0);
}

/** Formatters per chart, made once: recharts stores its props, so new functions cost a store update. */
const FORMATTERS = new Map<
  string,
  { tick: (v: number) => string; right: (v: number) => string; tooltip: (v: unknown) => string }
>(
  SPECS.map((spec) => [
    spec.id,
    {
      tick: (v: number) => spec.format(v),
      right: (v: number) => (spec.formatRight ?? spec.format)(v),
      tooltip: (v: unknown) =>
        Array.isArray(v) ? v.map((x) => spec.format(Number(x))).join(' – ') : spec.format(Number(v)),
    },
  ]),
);
const tooltipLabel = (t: unknown) => timeLabel(Number(t));
const TOOLTIP_STYLE = { background: '#111a2e', border: '1px solid #2a3a5c', borderRadius: 6 };

/**
 * One recharts chart, re-rendered only when its rows change (recharts 3 keeps its props in a store:
 * every re-render with new props re-runs its selectors, which is most of a chart's cost). Ticks are
 * computed here (round values) and given to the axes with interval 0.
 */
const Chart = memo(function Chart(props: { spec: ChartSpec; rows: ChartRow[] }): ReactNode {
  const { spec, rows } = props;
  const f = FORMATTERS.get(spec.id)!;
  const { t0, t1, xTicks, yLeft, yRight } = useMemo(() => {
    const t0 = rows.length > 0 ? rows[0].t : 0;
    const t1 = rows.length > 0 ? rows[rows.length - 1].t : 1;
    return {
      t0,
      t1,
      xTicks: niceTicks(t0, t1, 6).filter((t) => t >= t0 && t <= t1),
      yLeft: leftTicks(spec, maxOf(rows, spec.band ? [...spec.left, 'band'] : spec.left)),
      // The right axis carries counts (lost, retransmitted): whole numbers.
      yRight: spec.right !== undefined ? niceTicks(0, Math.max(1, maxOf(rows, spec.right)), 5, 1) : null,
    };
  }, [rows, spec]);
  return (
    <ResponsiveContainer width="100%" height="100%">
      <ComposedChart data={rows} margin={MARGIN}>
        <CartesianGrid stroke="#1c2a47" strokeDasharray="3 3" />
        <XAxis
          dataKey="t"
          type="number"
          domain={[t0, t1]}
          ticks={xTicks}
          interval={0}
          tickFormatter={timeLabel}
          tick={axisTick}
          stroke="#2a3a5c"
          allowDataOverflow
        />
        <YAxis
          yAxisId="left"
          domain={[yLeft[0], yLeft[yLeft.length - 1]]}
          ticks={yLeft}
          interval={0}
          tickFormatter={f.tick}
          tick={axisTick}
          stroke="#2a3a5c"
          width={78}
        />
        {yRight !== null && (
          <YAxis
            yAxisId="right"
            orientation="right"
            domain={[0, yRight[yRight.length - 1]]}
            ticks={yRight}
            interval={0}
            tickFormatter={f.right}
            tick={axisTick}
            stroke="#2a3a5c"
            width={44}
          />
        )}
        <Tooltip
          isAnimationActive={false}
          labelFormatter={tooltipLabel}
          formatter={f.tooltip}
          contentStyle={TOOLTIP_STYLE}
        />
        {spec.band && (
          <Area
            yAxisId="left"
            dataKey="band"
            name={LABELS.band}
            stroke="none"
            fill={COLORS.band}
            fillOpacity={0.18}
            activeDot={false}
            connectNulls
            isAnimationActive={false}
          />
        )}
        {spec.left.map((k) => line(k, 'left'))}
        {spec.right?.map((k) => line(k, 'right'))}
      </ComposedChart>
    </ResponsiveContainer>
  );
});

const ChartCard = memo(function ChartCard(props: {
  spec: ChartSpec;
  series: SeriesData;
  phase: number;
}): ReactNode {
  const { spec } = props;
  const series = useThrottled(props.series, CHART_REDRAW_MS, props.phase);
  const rows = useMemo(() => {
    const merged = mergeSeries(series, spec.series);
    return spec.band ? addVarianceBand(merged, series) : merged;
  }, [series, spec]);
  const points = pointCount(series, spec.series);
  const summary = spec.summary(series);
  const keys = [...(spec.band ? ['band'] : []), ...spec.left, ...(spec.right ?? [])];
  return (
    <figure className="card chart" data-testid={`chart-${spec.id}`} data-points={points}>
      <figcaption>
        <h3>{spec.title}</h3>
        <span className="hint">{summary}</span>
      </figcaption>
      <div className="chart-body" role="img" aria-label={`${spec.title}: ${summary}`}>
        {points === 0 ? <p className="empty">No data yet.</p> : <Chart spec={spec} rows={rows} />}
      </div>
      <Legend keys={keys} />
    </figure>
  );
});

/**
 * The live charts: congestion window, RTT with its variance band, packet counts, throughput. Each
 * redraws at most every CHART_REDRAW_MS, in its own time slot, and only when the series changed:
 * batches that bring other news (qlog events, stream rows) do not re-render recharts.
 */
export const ChartsView = memo(function ChartsView(props: { series: SeriesData }): ReactNode {
  return (
    <div className="charts">
      {SPECS.map((spec, i) => (
        <ChartCard
          key={spec.id}
          spec={spec}
          series={props.series}
          phase={(i * CHART_REDRAW_MS) / SPECS.length}
        />
      ))}
    </div>
  );
});
