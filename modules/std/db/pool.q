# std/db/pool: the part of the async database pools (std/db/sqlite,
# std/db/postgres) written in Quest.  Pools call it; programs use
# `await db.transaction(fun (tx) ... end)`.

# Run body(tx) inside a transaction on one connection of db, pinned for
# the whole call: commit when body returns (its value is the result),
# roll back when it raises or is cancelled, and give the connection back
# to the pool in every case.  body may be an async function (its task is
# awaited, and cancelled if the transaction is) or a plain one.
pub async fun transaction(db, body)
    let tx = await db.acquire()
    let inner = nil
    try
        await tx.begin()
        inner = body(tx)
        let result = inner
        if inner.cls() == "Task"
            result = await inner
        end
        await tx.commit()
        return result
    catch e
        if inner != nil and inner.cls() == "Task"
            inner.cancel()
        end
        try
            await tx.rollback()
        catch ignored
            # The connection is broken or already out of the transaction:
            # release() discards or cleans it; the first error is the one
            # worth reporting.
        end
        raise e
    ensure
        tx.release()
    end
end
