"use client";

import type { ReactNode } from "react";

import { useWidth } from "@/lib/useWidth";

export type BarRow = { key: string; label: ReactNode; value: number | null; text: string; color: string };

const NARROW_PX = 520;

/**
 * Horizontal bars, one per row, as an SVG laid out at the element's real width: label, bar and
 * value side by side on a wide screen; label and value above a full-width bar on a phone. Text stays
 * at 12-13 px whatever the width.
 */
export function BarRows({
  rows,
  scale,
  ticks,
  tickText,
  label,
  testId,
  top,
}: {
  rows: BarRow[];
  scale: number;
  ticks?: number[];
  tickText?: (tick: number) => string;
  label: string;
  testId?: string;
  top?: (width: number) => ReactNode;
}) {
  const [ref, width] = useWidth<HTMLDivElement>(640);
  const narrow = width < NARROW_PX;
  const labelW = narrow ? 0 : Math.min(220, Math.round(width * 0.32));
  const valueW = narrow ? 0 : 70;
  const barX = labelW;
  const barW = width - labelW - valueW - (narrow ? 0 : 8);
  const rowH = narrow ? 42 : 28;
  const topH = top ? 34 : 0;
  const axisH = ticks?.length ? 24 : 0;
  const height = topH + rows.length * rowH + axisH + 4;
  return (
    <div ref={ref} style={{ width: "100%" }}>
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={label}
        data-testid={testId}
        style={{ display: "block", fontFamily: "inherit", maxWidth: "100%" }}
      >
        {top ? top(width) : null}
        {ticks?.map((tick) => {
          const x = barX + (tick / scale) * barW;
          return (
            <g key={tick}>
              <line x1={x} x2={x} y1={topH} y2={height - axisH} stroke="var(--border)" strokeDasharray="3 3" />
              <text
                x={x}
                y={height - 6}
                textAnchor={tick === 0 ? "start" : tick === ticks[ticks.length - 1] ? "end" : "middle"}
                fontSize="11"
                fill="var(--muted)"
              >
                {tickText ? tickText(tick) : tick}
              </text>
            </g>
          );
        })}
        {rows.map((row, i) => {
          const y = topH + i * rowH;
          const barY = narrow ? y + 22 : y + 7;
          const w = row.value ? Math.max(2, Math.min(1, row.value / scale) * barW) : 0;
          return (
            <g key={row.key} data-stage={row.key}>
              <text x={0} y={narrow ? y + 15 : y + 18} fontSize="13" fill="var(--text-2)">
                {row.label}
              </text>
              <rect x={barX} y={barY} width={barW} height={14} rx={4} fill="var(--surface-2)" />
              {w ? <rect x={barX} y={barY} width={w} height={14} rx={4} fill={row.color} /> : null}
              <text
                x={width}
                y={narrow ? y + 15 : y + 18}
                fontSize="13"
                textAnchor="end"
                fill="var(--text)"
                fontWeight={600}
              >
                {row.text}
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
