// Preload (`node -r ./bench/cpu-prof-window.cjs ...`): the first SIGUSR2 starts a V8 CPU profile,
// the second writes it to $CPU_PROF_OUT (default ./window.cpuprofile) with the number of HTTP
// requests the process served in between, so a profile covers the load only (no start-up) and
// its time can be divided per request. Sum it with bench/profile-summary.ts.
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const dc = require('node:diagnostics_channel');

let requests = 0;
dc.subscribe('http.server.request.start', () => requests++);
const session = new Session();
session.connect();
let on = false;
process.on('SIGUSR2', () => {
  if (!on) {
    on = true;
    requests = 0;
    session.post('Profiler.enable', () => session.post('Profiler.start'));
    return;
  }
  on = false;
  const served = requests;
  session.post('Profiler.stop', (error, result) => {
    if (error) return console.error(error);
    const out = process.env.CPU_PROF_OUT || 'window.cpuprofile';
    writeFileSync(out, JSON.stringify(result.profile));
    writeFileSync(`${out}.requests`, `${served}\n`);
    console.error(`cpu profile: ${out}, ${served} requests`);
  });
});
