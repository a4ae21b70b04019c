/**
 * Screenshots of a notebook open in JupyterLab (scripts/browser-test.mjs): the whole notebook in
 * one PNG, the viewport grown to its height; a very long one in parts, scrolled between them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VIEWPORT, inPanel, resizeViewport, waitPlotsSettled } from './lab-page.mjs';

/** Taller notebooks are shot in parts of this height (px). */
const MAX_SHOT_HEIGHT = 15_000;

/**
 * Save `<outDir>/<name without .ipynb>.png` (or -part1.png, -part2.png, ...). Returns {shots
 * (the files), collapsed (figures of zero height once done)}; the viewport is VIEWPORT again.
 */
export async function takeScreenshot(page, nbPath, name, outDir) {
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, name.replace(/\.ipynb$/, '.png'));
  // Grow the viewport to the notebook's full height, so one image shows every cell.
  const need = await inPanel(page, nbPath, (panel) => {
    const outer = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
    const box = outer.getBoundingClientRect();
    const cells = panel.content.widgets;
    // Down to the last cell's bottom (the notebook pads its end so the last cell can scroll up).
    const last = cells.length > 0 ? cells[cells.length - 1].node.getBoundingClientRect().bottom - box.top + outer.scrollTop : outer.scrollHeight;
    return Math.ceil(box.top + last + 40);
  });
  const shots = [];
  if (need <= MAX_SHOT_HEIGHT) {
    // Scroll to the top first: scrolling while plotly re-lays out its graphs after the resize
    // can leave a graph collapsed to zero height.
    await inPanel(page, nbPath, (panel) => {
      const outer = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
      outer.scrollTop = 0;
    });
    await resizeViewport(page, nbPath, { width: VIEWPORT.width, height: Math.max(VIEWPORT.height, need) });
    await page.locator('.jp-NotebookPanel:visible').first().screenshot({ path: file });
    shots.push(file);
  } else {
    // Very long notebooks: several images, scrolling the notebook between them.
    await resizeViewport(page, nbPath, { width: VIEWPORT.width, height: MAX_SHOT_HEIGHT });
    for (let part = 1, top = 0; ; part++) {
      const more = await inPanel(page, nbPath, (panel, top) => {
        const outer = panel.node.querySelector('.jp-WindowedPanel-outer') || panel.content.node;
        outer.scrollTop = top;
        return outer.scrollTop + outer.clientHeight < outer.scrollHeight;
      }, top);
      await waitPlotsSettled(page, nbPath);
      const f = file.replace(/\.png$/, `-part${part}.png`);
      await page.locator('.jp-NotebookPanel:visible').first().screenshot({ path: f });
      shots.push(f);
      if (!more) break;
      top += MAX_SHOT_HEIGHT - 400;
    }
  }
  const collapsed = (await waitPlotsSettled(page, nbPath)).filter(([, h]) => h === 0).length;
  await page.setViewportSize(VIEWPORT);
  return { shots, collapsed };
}
