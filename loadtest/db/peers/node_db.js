// Node.js peer for loadtest/db/run.sh: node:http answering one indexed
// SELECT of a random row as JSON.
//   node node_db.js PORT pg URL          pg (npm) Pool of 10
//   node node_db.js PORT sqlite PATH     node:sqlite when the runtime has it,
//                                        else better-sqlite3 (npm)
// Modules are looked up in NODE_PATH (run.sh installs them there).
const http = require("node:http");

const [port, kind, target] = process.argv.slice(2);
const SQL_PG = "SELECT id, name, value FROM bench_items WHERE id = $1";
const SQL_LITE = "SELECT id, name, value FROM bench_items WHERE id = ?";
const randomId = () => 1 + Math.floor(Math.random() * 10000);

function send(res, row) {
  const body = JSON.stringify(row);
  res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function fail(res, err) {
  res.writeHead(500);
  res.end(String(err));
}

let handler;
if (kind === "pg") {
  const { Pool } = require("pg");
  const pool = new Pool({ connectionString: target, max: 10 });
  handler = (req, res) =>
    pool.query({ name: "item", text: SQL_PG, values: [randomId()] })
      .then((r) => send(res, r.rows[0]), (e) => fail(res, e));
} else {
  let stmt;
  try {
    const { DatabaseSync } = require("node:sqlite");
    stmt = new DatabaseSync(target).prepare(SQL_LITE);
  } catch (e) {
    const Database = require("better-sqlite3");
    stmt = new Database(target).prepare(SQL_LITE);
  }
  handler = (req, res) => send(res, stmt.get(randomId()));
}

http.createServer(handler).listen(Number(port), "127.0.0.1");
