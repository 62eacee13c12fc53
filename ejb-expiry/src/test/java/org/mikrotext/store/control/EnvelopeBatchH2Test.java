package org.mikrotext.store.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.sql.SQLException;
import java.sql.Statement;
import java.sql.ResultSet;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** {@link EnvelopeBatchTest} on H2 in PostgreSQL mode, the database of the zero-configuration default. */
class EnvelopeBatchH2Test extends EnvelopeBatchTest {

    @Override
    DataSource freshDatabase() {
        SwitchingDataSource database = new SwitchingDataSource();
        database.setUrl("jdbc:h2:mem:" + UUID.randomUUID() + ";MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE;DB_CLOSE_DELAY=-1");
        database.setUser("sa");
        return database;
    }

    @Test
    void h2CannotTellAnyoneSoNothingIsStoredThatWouldGoUntold() throws SQLException {
        Notices notices = new Notices("batch_news", newest -> List.of(newest.toString()));
        assertThrows(SQLException.class, () -> EnvelopeBatch.appendAll(connection, List.of(append("room-a", "alice", 1,
                0)), NOW, 100, false, new TrimMarks(), notices));
        try (Statement sql = connection.createStatement();
             ResultSet count = sql.executeQuery("SELECT count(*) FROM envelopes")) {
            count.next();
            assertEquals(0, count.getLong(1));
        }
    }
}
