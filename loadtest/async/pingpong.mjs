// Two tasks pass N messages back and forth over two channels of capacity
// 1: messages per second.  Node has no channel, so this is the usual
// minimal one: send waits while full, recv waits while empty.
class Channel {
  constructor(capacity) {
    this.capacity = capacity;
    this.buffer = [];
    this.receivers = [];
    this.senders = [];
  }

  send(v) {
    if (this.receivers.length) {
      this.receivers.shift()(v);
      return Promise.resolve();
    }
    if (this.buffer.length < this.capacity) {
      this.buffer.push(v);
      return Promise.resolve();
    }
    return new Promise((resolve) => this.senders.push([v, resolve]));
  }

  recv() {
    if (this.buffer.length) {
      const v = this.buffer.shift();
      if (this.senders.length) {
        const [sv, resolve] = this.senders.shift();
        this.buffer.push(sv);
        resolve();
      }
      return Promise.resolve(v);
    }
    return new Promise((resolve) => this.receivers.push(resolve));
  }
}

const n = process.argv[2] ? parseInt(process.argv[2]) : 1000000;
const rounds = Math.floor(n / 2);
const toPong = new Channel(1);
const toPing = new Channel(1);

async function ping() {
  for (let i = 0; i < rounds; i++) {
    await toPong.send(i);
    await toPing.recv();
  }
}

async function pong() {
  for (let i = 0; i < rounds; i++) {
    const v = await toPong.recv();
    await toPing.send(v + 1);
  }
}

const t0 = performance.now();
await Promise.all([pong(), ping()]);
if (n) console.log(n / ((performance.now() - t0) / 1000));
