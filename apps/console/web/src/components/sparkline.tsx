import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface SparkSeries {
  values: (number | null)[];
  /** A CSS colour. */
  stroke: string;
  /** Dots on the values: a sparse series (a minute with a figure between minutes without) draws no line. */
  points?: boolean;
}

const HEIGHT = 44;

/**
 * A small line chart without axes (uPlot, drawn on a canvas). The canvas says nothing to a screen
 * reader, so the chart is an image whose label is `summary`; the figures it draws are beside it
 * as text.
 */
export function Sparkline({ summary, times, series }: { summary: string; times: number[]; series: SparkSeries[] }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The chart is built again only when the lines' looks change, not on every new value.
  const looks = JSON.stringify(series.map((s) => [s.stroke, !!s.points]));

  useEffect(() => {
    const element = box.current!;
    const lines = JSON.parse(looks) as [string, boolean][];
    plot.current = new uPlot(
      {
        width: element.clientWidth || 200,
        height: HEIGHT,
        legend: { show: false },
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1) * 1.1] } },
        padding: [4, 4, 4, 4],
        series: [{}, ...lines.map(([stroke, points]) => ({ stroke, width: 1.5, points: { show: points, size: 4, fill: stroke } }))],
      },
      [[], ...lines.map(() => [])],
      element,
    );
    // The canvas has a fixed size: follow the box when the window (a phone turned) changes.
    const resized = new ResizeObserver(() => plot.current?.setSize({ width: element.clientWidth, height: HEIGHT }));
    resized.observe(element);
    return () => {
      resized.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [looks]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)] as uPlot.AlignedData);
  }, [times, series, looks]);

  return <div ref={box} className="sparkline" role="img" aria-label={summary} />;
}
