package org.mikrotext.it;

import java.io.File;
import org.jboss.shrinkwrap.api.ShrinkWrap;
import org.jboss.shrinkwrap.api.importer.ZipImporter;
import org.jboss.shrinkwrap.api.spec.WebArchive;

/** The relay WAR exactly as the build made it, deployed at the context root (as {@code ROOT.war}). */
final class RelayDeployment {

    private RelayDeployment() {
    }

    static WebArchive war() {
        File war = new File(System.getProperty("mikrotext.it.war"));
        return ShrinkWrap.create(ZipImporter.class, "ROOT.war").importFrom(war).as(WebArchive.class);
    }
}
